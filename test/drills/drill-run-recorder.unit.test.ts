import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RunData, StepRecord } from '../../src/core/run-data.js';
import { drillRunEnd } from '../../src/drills/drill-run-recorder.js';

const step = (status: StepRecord['status'], extra: Partial<StepRecord> = {}): StepRecord => ({
  name: 'switchover',
  action: 'redis.switchover',
  status,
  attempts: 1,
  startedAt: '2026-12-03T03:00:01.000Z',
  ...extra,
});

function run(steps: StepRecord[], extra: Partial<RunData> = {}): RunData {
  return {
    playbook: 'remediator-switchover-redis',
    target: 'cache',
    alert: {
      fingerprint: 'f',
      status: 'firing',
      labels: { alertname: 'RemediatorSwitchover', cluster: 'cache', drill: 'cache-weekly' },
      annotations: {},
      startsAt: '2026-12-03T03:00:00.000Z',
    },
    receiver: 'drill:cache-weekly',
    receivedAt: '2026-12-03T03:00:00.500Z',
    dryRun: false,
    phase: 'remediate',
    source: 'drill',
    steps,
    skipSteps: [],
    ...extra,
  };
}

describe("a drill run's record", () => {
  test("a success keeps the switchover's write pause as the drill's RTO", () => {
    const data = run([step('succeeded', { output: { from: 'cache-a', to: 'cache-b', mode: 'planned', writePauseMs: 184 } })]);
    assert.deepEqual(drillRunEnd('r1', data, 'succeeded', 1000), { runId: 'r1', outcome: 'succeeded', at: 1000, rtoMs: 184 });
  });

  test('a success without a reported write pause records no RTO', () => {
    assert.deepEqual(drillRunEnd('r1', run([step('succeeded', { output: { noop: true } })]), 'succeeded', 1000), {
      runId: 'r1',
      outcome: 'succeeded',
      at: 1000,
    });
  });

  test('a failure keeps the failed step error as the reason', () => {
    const data = run([step('failed', { error: { code: 'STEP_FAILED', message: 'the candidate did not catch up within 5s' } })]);
    assert.deepEqual(drillRunEnd('r2', data, 'failed', 1000), {
      runId: 'r2',
      outcome: 'failed',
      at: 1000,
      reason: 'STEP_FAILED: the candidate did not catch up within 5s',
    });
  });

  test('a run that did not act (a hold, a refused switchover, a dry run, a cancellation) is skipped, with why', () => {
    const held = run([], { skip: { kind: 'hold', reason: 'held until 20:00 by admin: patching', at: '2026-12-03T03:00:01.000Z' } });
    assert.deepEqual(drillRunEnd('r3', held, 'skipped', 1000), {
      runId: 'r3',
      outcome: 'skipped',
      at: 1000,
      reason: 'held until 20:00 by admin: patching',
    });
    assert.equal(drillRunEnd('r4', run([step('would-run')]), 'dry_run', 1000).outcome, 'skipped');
    assert.equal(drillRunEnd('r5', run([]), 'cancelled', 1000).outcome, 'skipped');
  });
});
