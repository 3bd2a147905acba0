import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePlaybookSources } from '../../../src/playbooks/load-playbooks.js';
import { formatProblem } from '../../../src/sources/index.js';
import { defaultActionsWith } from '../../helpers/default-actions.js';

const actions = defaultActionsWith(
  'clusters:\n  cache: { kind: redis, members: [{ name: cache-a, address: 127.0.0.1:6379 }, { name: cache-b, address: 127.0.0.1:6380 }] }\n',
);

function load(withBlock: string): string[] {
  const text = [
    'name: switchover',
    'match: \'{alertname="RemediatorSwitchover", service="redis"}\'',
    "target: '{{ labels.cluster }}'",
    'steps:',
    '  - name: switchover',
    '    action: redis.switchover',
    `    with: ${withBlock}`,
    '',
  ].join('\n');
  const result = parsePlaybookSources([{ file: 'remediations/switchover.yaml', text }], actions);
  return result.success ? [] : result.problems.map(formatProblem);
}

describe('redis.switchover parameters at load time', () => {
  test('the built-in switchover playbook, every parameter templated from the alert, loads', () => {
    assert.deepEqual(
      load(`{ cluster: '{{ labels.cluster }}', to: '{{ labels.to | default("") }}', mode: '{{ labels.mode | default("planned") }}' }`),
      [],
    );
  });

  test('a literal member the cluster does not have, and an unknown mode, are reported with file, line and path', () => {
    const problems = load(`{ cluster: cache, to: cache-z, mode: sideways }`);
    assert.ok(
      problems.includes(
        'remediations/switchover.yaml:7: steps[0].with.to: no member "cache-z" in cluster "cache" (members: cache-a, cache-b)',
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((line) => line.startsWith('remediations/switchover.yaml:7: steps[0].with.mode: ')),
      problems.join('\n'),
    );
  });
});
