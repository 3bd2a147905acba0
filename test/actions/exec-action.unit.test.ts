import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createExecAction } from '../../src/actions/exec-action.js';

describe('exec action', () => {
  const action = createExecAction({ baseEnv: { PATH: process.env.PATH } });

  test('the schema rejects an empty command', () => {
    assert.equal(action.schema.safeParse({ command: [] }).success, false);
  });

  test('checkRaw rejects a templated program at load time', () => {
    const problems = action.checkRaw?.({ command: ['{{ labels.x }}', '--now'] }) ?? [];
    assert.equal(problems.length, 1);
    assert.deepEqual(problems[0]?.path, ['command', 0]);
    assert.match(problems[0].message, /program must not be templated/);
  });

  test('checkRaw accepts templated arguments after a fixed program', () => {
    assert.deepEqual(action.checkRaw?.({ command: ['/usr/local/bin/failover', '--host', '{{ labels.instance }}'] }), []);
  });
});
