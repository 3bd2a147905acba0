import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UnrecoverableError } from 'bullmq';
import { Registry } from 'prom-client';
import { AppError, errorCodes, isAppError } from '../../src/core/errors/index.js';
import type { RunData } from '../../src/core/run-data.js';
import { createMetrics } from '../../src/metrics/create-metrics.js';
import { createRunOutcome } from '../../src/runner/run-outcome.js';
import { runData } from './fake-run.js';

function outcome(data: RunData, lastAttempt: boolean) {
  const registry = new Registry();
  const metrics = createMetrics({ registry, defaultMetrics: false });
  const sample = async (name: string, labels: string) => {
    const line = (await registry.getSingleMetricAsString(name))
      .split('\n')
      .find((text) => text.startsWith(`${name}{${labels}}`) || text.startsWith(`${name}_count{${labels}}`));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };
  return { ...createRunOutcome({ metrics, now: () => new Date('2026-01-01T00:02:00.000Z') }, data, lastAttempt), sample };
}

describe('how a run attempt ends, in the metrics and for BullMQ', () => {
  test('the run has ended once it finished or failed for good, not after an attempt a retry follows', () => {
    const retried = outcome(runData(), false);
    assert.throws(() => retried.fail(new Error('Connection refused')));
    assert.equal(retried.ended(), false);
    const last = outcome(runData(), true);
    assert.throws(() => last.fail(new Error('Connection refused')));
    assert.equal(last.ended(), true);
    const permanent = outcome(runData(), false);
    assert.throws(() => permanent.fail(new AppError(errorCodes.STEP_PERMANENT, 'step fence: 400')));
    assert.equal(permanent.ended(), true);
    const finished = outcome(runData(), false);
    assert.equal(finished.ended(), false);
    finished.finish('succeeded');
    assert.equal(finished.ended(), true);
  });

  test('the end of a run is told once, with its outcome, and not an attempt a retry follows (what records a drill)', () => {
    const told: string[] = [];
    const metrics = createMetrics({ registry: new Registry(), defaultMetrics: false });
    const attempt = (lastAttempt: boolean) =>
      createRunOutcome({ metrics, now: () => new Date(), onEnd: (ended) => told.push(ended) }, runData(), lastAttempt);
    assert.throws(() => attempt(false).fail(new Error('Connection refused')));
    assert.deepEqual(told, [], 'a retry follows');
    assert.throws(() => attempt(true).fail(new Error('Connection refused')));
    attempt(false).finish('skipped', 'hold');
    assert.deepEqual(told, ['failed', 'skipped']);
  });

  test('an error retrying cannot fix fails the run at once, with its code in the reason, and counts it as failed', async () => {
    const { fail, sample } = outcome(runData(), false);
    assert.throws(
      () => fail(new AppError(errorCodes.STEP_PERMANENT, 'step fence: 400')),
      (error: unknown) => error instanceof UnrecoverableError && error.message === `${errorCodes.STEP_PERMANENT}: step fence: 400`,
    );
    assert.equal(await sample('remediator_runs_total', 'playbook="failover",outcome="failed"'), 1);
  });

  test('a transient failure is retried without being counted, until the last attempt counts it', async () => {
    const early = outcome(runData(), false);
    assert.throws(
      () => early.fail(new Error('Connection refused')),
      (error: unknown) => isAppError(error) && error.code === errorCodes.STEP_FAILED && error.message === 'Connection refused',
    );
    assert.equal(await early.sample('remediator_runs_total', 'playbook="failover",outcome="failed"'), 0);
    const last = outcome(runData(), true);
    assert.throws(
      () => last.fail(new AppError(errorCodes.STEP_TIMEOUT, 'timed out')),
      (error: unknown) => isAppError(error) && error.code === errorCodes.STEP_TIMEOUT,
    );
    assert.equal(await last.sample('remediator_runs_total', 'playbook="failover",outcome="failed"'), 1);
  });

  test('a finished remediation feeds the phase histograms and, past its rto, the breach counter', async () => {
    const data = runData({ rtoMs: 60_000, firstStartedAt: '2026-01-01T00:00:40.000Z', finishedAt: '2026-01-01T00:01:30.000Z' });
    const { finish, sample } = outcome(data, false);
    finish('succeeded');
    const labels = 'playbook="failover",outcome="succeeded"';
    assert.equal(await sample('remediator_runs_total', labels), 1);
    for (const histogram of [
      'remediator_run_detection_seconds',
      'remediator_run_dispatch_seconds',
      'remediator_run_action_seconds',
      'remediator_run_recovery_seconds',
    ]) {
      assert.equal(await sample(histogram, labels), 1, histogram);
    }
    assert.equal(
      await sample('remediator_rto_breaches_total', 'playbook="failover"'),
      1,
      'recovered 90 s after the alert started, rto 60 s',
    );
  });

  test('a skipped remediation and a failback are counted but not timed, even when they fail: they recovered nothing', async () => {
    const skipped = outcome(runData({ skip: { kind: 'cooldown', reason: 'cooldown', at: 'then' }, rtoMs: 1 }), true);
    skipped.finish('skipped', 'cooldown');
    assert.equal(await skipped.sample('remediator_runs_skipped_total', 'playbook="failover",reason="cooldown"'), 1);
    // Its notification failed for good on the last attempt.
    assert.throws(() => skipped.fail(new Error('smtp refused')));
    assert.equal(await skipped.sample('remediator_runs_total', 'playbook="failover",outcome="failed"'), 1);
    assert.equal(await skipped.sample('remediator_run_detection_seconds', 'playbook="failover",outcome="failed"'), 0);
    assert.equal(await skipped.sample('remediator_rto_breaches_total', 'playbook="failover"'), 0);
    const failback = outcome(runData({ phase: 'failback', rtoMs: 1 }), true);
    assert.throws(() => failback.fail(new Error('refused')));
    assert.equal(await failback.sample('remediator_run_detection_seconds', 'playbook="failover",outcome="failed"'), 0);
    assert.equal(await failback.sample('remediator_rto_breaches_total', 'playbook="failover"'), 0);
  });
});
