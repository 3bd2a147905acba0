import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareAlert, partialMismatch } from '../../tools/playbook-tests/compare-outcomes.js';
import { formatOffset } from '../../tools/playbook-tests/test-command.js';
import { parseOffset } from '../../tools/playbook-tests/test-file-schema.js';
import type { SimAlert, SimRun } from '../../tools/simulate/sim-types.js';

const run = (overrides: Partial<SimRun> = {}): SimRun => ({
  jobId: 'failover-0123',
  playbook: 'failover',
  phase: 'remediate',
  target: 'cache',
  at: '1970-01-01T00:03:00.000Z',
  outcome: 'would-run',
  steps: [
    {
      name: 'promote',
      action: 'redis.failover',
      status: 'would-run',
      params: { cluster: 'cache', confirm: { probes: 4, quorum: 'majority' }, hosts: ['a', 'b'] },
    },
  ],
  skipSteps: [],
  ...overrides,
});
const alert = (...runs: SimRun[]): SimAlert => ({
  index: 0,
  status: 'firing',
  labels: { alertname: 'PrimaryUnreachable' },
  fingerprint: 'f',
  startsAt: '1970-01-01T00:03:00.000Z',
  runs,
});

describe('comparing what an alert made with what a playbook test expects', () => {
  test('parameters match partially: the keys written must be there and equal, arrays whole, other keys are ignored', () => {
    const got = { cluster: 'cache', confirm: { probes: 4, quorum: 'majority' }, hosts: ['a', 'b'] };
    assert.equal(partialMismatch({ confirm: { probes: 4 } }, got), undefined);
    assert.deepEqual(partialMismatch({ confirm: { probes: 5 } }, got), { path: 'confirm.probes', expected: 5, got: 4 });
    assert.deepEqual(partialMismatch({ hosts: ['a'] }, got), { path: 'hosts', expected: ['a'], got: ['a', 'b'] });
    assert.deepEqual(partialMismatch({ missing: 1 }, got), { path: 'missing', expected: 1, got: undefined });
    assert.deepEqual(partialMismatch({ cluster: { name: 'cache' } }, got), { path: 'cluster', expected: { name: 'cache' }, got: 'cache' });
  });

  test('every expected field that differs is one difference naming the playbook and the field; a match is none', () => {
    const skipped = run({
      outcome: 'skipped',
      steps: [],
      skip: { kind: 'guard', reason: 'guard replica-up failed: up == 1 returned [], expected a result' },
      guards: [{ name: 'replica-up', query: 'up == 1', expect: 'true', status: 'failed', result: [], at: '' }],
    });
    assert.deepEqual(
      compareAlert([{ playbook: 'failover', outcome: 'skipped', skip: { kind: 'guard', reason: 'replica-up failed' } }], alert(skipped)),
      [],
    );
    assert.deepEqual(
      compareAlert(
        [{ playbook: 'failover', outcome: 'would-run', guards: { 'replica-up': 'passed' }, steps: [{ name: 'promote' }] }],
        alert(skipped),
      ),
      [
        {
          playbook: 'failover',
          field: 'outcome',
          expected: 'would-run',
          got: 'skipped (guard: guard replica-up failed: up == 1 returned [], expected a result)',
        },
        { playbook: 'failover', field: 'guards.replica-up', expected: 'passed', got: 'failed (up == 1 returned [])' },
        { playbook: 'failover', field: 'steps', expected: '[promote]', got: '[]' },
      ],
    );
  });

  test('the playbooks that ran must be exactly the ones expected: a missing run and an extra run are both differences', () => {
    assert.deepEqual(compareAlert([{ playbook: 'notify', outcome: 'would-run' }], alert(run())), [
      { playbook: 'notify', field: 'match', expected: 'a run', got: 'no run (the playbook did not match, or is not loaded)' },
      { playbook: 'failover', field: 'match', expected: 'no run', got: 'a run: would-run' },
    ]);
    assert.deepEqual(compareAlert([], alert()), []);
  });

  test("a step's parameters are compared at the first path that differs", () => {
    assert.deepEqual(
      compareAlert(
        [{ playbook: 'failover', outcome: 'would-run', steps: [{ name: 'promote', params: { confirm: { quorum: 'all' } } }] }],
        alert(run()),
      ),
      [{ playbook: 'failover', field: 'steps.promote.params.confirm.quorum', expected: 'all', got: 'majority' }],
    );
  });

  test('times of a test are written as durations from its start, compound and negative ones too', () => {
    assert.equal(parseOffset('2m30s'), 150_000);
    assert.equal(parseOffset('-10m'), -600_000);
    assert.equal(parseOffset('1h1ms'), 3_600_001);
    assert.equal(parseOffset('2 m'), undefined);
    assert.equal(parseOffset('m'), undefined);
    assert.equal(formatOffset(150_000), '2m30s');
    assert.equal(formatOffset(-600_000), '-10m');
    assert.equal(formatOffset(0), '0s');
  });
});
