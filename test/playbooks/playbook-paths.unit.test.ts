import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { readPlaybookSources } from '../../src/playbooks/load-playbooks.js';
import { guardsWithPaths, stepsWithPaths } from '../../src/playbooks/playbook-paths.js';
import { formatPath } from '../../src/sources/index.js';

const actions = createDefaultActions({ smtpUrl: undefined, smtpFrom: 'x@y', prometheusUrl: undefined, path: undefined });

const text = `name: every-list
match: '{alertname="InstanceDown"}'
guards:
  - { name: first, query: 'up == 1' }
  - { name: second, query: 'up == 0', expect: 'false' }
approval:
  notify:
    - { name: ask, action: log, with: { message: approve? } }
steps:
  - { name: one, action: log, with: { message: a } }
  - { name: two, action: log, with: { message: b } }
skipped:
  steps:
    - { name: tell, action: log, with: { message: skipped } }
resolved:
  steps:
    - { name: back, action: log, with: { message: back } }
`;

/** The value at `path` in parsed YAML. */
const valueAt = (value: unknown, path: readonly (string | number)[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], value);

describe('playbook paths', () => {
  test('every step and guard of a loaded playbook is paired with the path it is written at', () => {
    const { results, problems } = readPlaybookSources([{ file: 'p.yaml', text }], actions);
    assert.deepEqual(problems, []);
    const [{ playbook, document } = {}] = results;
    assert.ok(playbook && document);
    const steps = stepsWithPaths(playbook);
    assert.deepEqual(
      steps.map(({ at, step }) => `${formatPath(at)} ${step.name}`),
      ['steps[0] one', 'steps[1] two', 'resolved.steps[0] back', 'skipped.steps[0] tell', 'approval.notify[0] ask'],
    );
    for (const { at, step } of steps) assert.equal(valueAt(document.value, [...at, 'name']), step.name);
    const guards = guardsWithPaths(playbook);
    assert.deepEqual(
      guards.map(({ at, guard }) => `${formatPath(at)} ${guard.name}`),
      ['guards[0] first', 'guards[1] second'],
    );
    for (const { at, guard } of guards) assert.equal(valueAt(document.value, [...at, 'query']), guard.query);
  });
});

describe('readPlaybookSources', () => {
  test('gives each file its document, and its playbook only when the file has no problem', () => {
    const { results, problems } = readPlaybookSources(
      [
        { file: 'good.yaml', text },
        { file: 'bad.yaml', text: text.replace('name: every-list', 'name: other\ntaget: x') },
        { file: 'broken.yaml', text: 'name: [\n' },
      ],
      actions,
    );
    assert.deepEqual(
      results.map((result) => [result.file, result.document !== undefined, result.playbook?.name]),
      [
        ['good.yaml', true, 'every-list'],
        ['bad.yaml', true, undefined],
        ['broken.yaml', false, undefined],
      ],
    );
    assert.deepEqual(
      problems.map((problem) => [problem.file, problem.line, problem.path]),
      [
        ['bad.yaml', 2, 'taget'],
        ['broken.yaml', 2, undefined],
      ],
    );
  });

  test('leaves judging an empty set of files to the caller', () => {
    assert.deepEqual(readPlaybookSources([], actions), { results: [], problems: [] });
  });
});
