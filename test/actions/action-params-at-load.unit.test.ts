import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePlaybookSources } from '../../src/playbooks/load-playbooks.js';
import { formatProblem } from '../../src/sources/index.js';
import { defaultActionsWith } from '../helpers/default-actions.js';

const actions = defaultActionsWith(
  'clusters:\n  cache: { kind: redis, members: [{ name: a, address: 127.0.0.1:6379 }] }\n  db: { kind: postgres, members: [{ name: b, address: 127.0.0.1:5432 }] }\n',
);

describe('every action checks its with: block when playbooks load', () => {
  for (const name of actions.keys()) {
    test(`${name}: an unknown key and a wrongly typed value are reported with file, line and path`, () => {
      const text = [
        'name: bad-params',
        'match: \'{alertname="X"}\'',
        'steps:',
        '  - name: only',
        `    action: ${name}`,
        '    with:',
        '      noSuchOption: 1',
        '      timeout: [not, a, duration]',
        '',
      ].join('\n');
      const result = parsePlaybookSources([{ file: 'remediations/bad.yaml', text }], actions);
      if (result.success) assert.fail('the playbook loaded');
      const lines = result.problems.map(formatProblem);
      assert.ok(
        lines.includes('remediations/bad.yaml:7: steps[0].with.noSuchOption: unknown key "noSuchOption" for ' + name),
        lines.join('\n'),
      );
      assert.ok(
        lines.some((line) => line.startsWith('remediations/bad.yaml:8: steps[0].with.timeout: ')),
        lines.join('\n'),
      );
    });
  }
});
