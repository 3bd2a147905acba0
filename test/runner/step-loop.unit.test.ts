import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, test } from 'node:test';
import { DelayedError } from 'bullmq';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { defineAction, permanentError, skipRun, transientError, type ActionContext } from '../../src/core/action.js';
import { createActionRegistry } from '../../src/core/action-registry.js';
import { errorCodes, isAppError } from '../../src/core/errors/index.js';
import type { StepRecord } from '../../src/core/run-data.js';
import { createMetrics } from '../../src/metrics/create-metrics.js';
import { actingSteps, createStepLoop, handBackReason, notifySteps, type StepLoopOptions } from '../../src/runner/step-loop.js';
import type { TargetLease } from '../../src/state/target-lock.js';
import { FailedRun, fakeRun, playbook, runData, step, type FakeRun } from './fake-run.js';

/** The in-memory `record` action and what it saw; a step named in `failing` fails, one in `hanging` never ends by itself. */
function recorder(options: { failing?: Record<string, Error>; hanging?: string[]; onHang?: () => void } = {}) {
  const calls: { name: string; context: ActionContext }[] = [];
  const action = defineAction({
    name: 'record',
    description: 'records its call',
    schema: z.object({ name: z.string() }),
    defaultTimeoutMs: 1000,
    async run(params, context) {
      calls.push({ name: params.name, context });
      const failure = options.failing?.[params.name];
      if (failure) throw failure;
      if (options.hanging?.includes(params.name)) {
        options.onHang?.();
        await new Promise(() => undefined);
      }
      await context.recordProcess?.({ pid: 4242, pgid: 4242, host: 'this-host', bootId: 'boot', startTime: '1', killAfterMs: 100 });
      return { ran: params.name };
    },
  });
  return { calls, actions: createActionRegistry([action]) };
}

function setup(options: { failing?: Record<string, Error>; hanging?: string[]; onHang?: () => void; paused?: boolean } = {}) {
  const { calls, actions } = recorder(options);
  const registry = new Registry();
  const metrics = createMetrics({ registry, defaultMetrics: false });
  const loop = createStepLoop({
    actions,
    metrics,
    isPaused: () => Promise.resolve(options.paused ?? false),
    waitRetryMs: 500,
    now: () => new Date(),
  });
  return { calls, loop, registry };
}

const acting = (run: FakeRun, extra: Partial<StepLoopOptions> = {}): StepLoopOptions => ({
  ...actingSteps,
  steps: run.steps,
  records: run.data.steps,
  template: run.template,
  signal: new AbortController().signal,
  ...extra,
});
const notifying = (run: FakeRun, extra: Partial<StepLoopOptions> = {}): StepLoopOptions => ({
  ...notifySteps,
  steps: run.steps,
  records: run.data.skipSteps,
  template: run.template,
  ...extra,
});
const done = (name: string, status: StepRecord['status'] = 'succeeded'): StepRecord => ({
  name,
  action: 'record',
  status,
  attempts: 1,
  startedAt: '2026-01-01T00:00:40.000Z',
});
const lease = (held: boolean, fencingToken = 9): TargetLease => ({
  target: 'cache-a',
  fencingToken,
  isHeld: () => Promise.resolve(held),
  renew: () => Promise.resolve(held),
  release: () => Promise.resolve(),
});

describe('the step loop, without Redis', () => {
  test('steps run in order, each checkpointed as running before it starts and with its outcome after', async () => {
    const { calls, loop } = setup();
    const run = fakeRun({ playbook: playbook({ steps: [step('stop'), step('promote')] }) });
    await loop(run, acting(run));
    assert.deepEqual(
      calls.map(({ name }) => name),
      ['stop', 'promote'],
    );
    assert.deepEqual(
      run.checkpoints.map((data) => data.steps.map(({ name, status }) => `${name} ${status}`).join(', ')),
      [
        'stop running',
        'stop running', // the process the step started, checkpointed before it ends
        'stop succeeded',
        'stop succeeded, promote running',
        'stop succeeded, promote running',
        'stop succeeded, promote succeeded',
      ],
    );
    assert.equal(run.checkpoints[1]?.steps[0]?.process?.pid, 4242);
  });

  test('a step that succeeded on an earlier attempt is not run again, and the failed one counts its attempts', async () => {
    const { calls, loop } = setup();
    const run = fakeRun({
      playbook: playbook({ steps: [step('stop'), step('promote')] }),
      data: runData({ steps: [done('stop'), { ...done('promote', 'failed'), attempts: 2 }] }),
    });
    await loop(run, acting(run));
    assert.deepEqual(
      calls.map(({ name }) => name),
      ['promote'],
    );
    assert.equal(run.data.steps[1]?.attempts, 3);
  });

  test("the acting loop fails the run with the step's own code; the notify loop throws it to its caller", async () => {
    const { loop } = setup({ failing: { stop: permanentError('400 from the fence') } });
    const run = fakeRun({ playbook: playbook({ steps: [step('stop'), step('promote')] }) });
    await assert.rejects(loop(run, acting(run)), FailedRun);
    assert.equal(run.failures.length, 1);
    assert.ok(isAppError(run.failures[0]) && run.failures[0].code === errorCodes.STEP_PERMANENT);
    assert.match((run.failures[0] as Error).message, /^step stop: 400 from the fence$/);
    assert.deepEqual(
      run.data.steps.map(({ status }) => status),
      ['failed'],
      'no step after the failed one ran',
    );

    const side = fakeRun({ playbook: playbook({ steps: [step('stop')] }) });
    await assert.rejects(loop(side, notifying(side)), (error: unknown) => isAppError(error) && error.code === errorCodes.STEP_PERMANENT);
    assert.deepEqual(side.failures, [], 'the notify loop leaves the decision to its caller');
  });

  test('a step that decides the run must not act ends the acting loop with its skip; the steps after it do not run', async () => {
    const seen = { replicas: ['cache-b'] };
    const { calls, loop } = setup({ failing: { promote: skipRun('primary-reachable-from-replicas', 'cache-b still sees cache-a', seen) } });
    const run = fakeRun({ playbook: playbook({ steps: [step('check'), step('promote'), step('verify')] }) });
    const skip = await loop(run, acting(run));
    assert.equal(skip?.kind, 'primary-reachable-from-replicas');
    assert.equal(skip.reason, 'cache-b still sees cache-a');
    assert.deepEqual(
      calls.map(({ name }) => name),
      ['check', 'promote'],
    );
    assert.deepEqual(
      run.data.steps.map(({ name, status }) => `${name} ${status}`),
      ['check succeeded', 'promote skipped'],
    );
    assert.deepEqual(run.data.steps[1]?.output, seen, 'what the step observed is its output');
    assert.equal(run.failures.length, 0, 'a skip is not a failure');
    assert.equal(run.checkpoints.at(-1)?.steps[1]?.status, 'skipped', 'the skipped step is checkpointed');
  });

  test('a skip decided by a notification step is a failed notification thrown to the caller', async () => {
    const { loop } = setup({ failing: { tell: skipRun('primary-reachable', 'cache-a answered') } });
    const run = fakeRun({ playbook: playbook({ steps: [step('tell')] }) });
    await assert.rejects(loop(run, notifying(run)), (error: unknown) => isAppError(error) && error.code === errorCodes.RUN_SKIPPED);
    assert.equal(run.data.skipSteps[0]?.status, 'failed');
  });

  test('while the kill switch is on the acting loop parks the run before the next step; the notify loop does not ask', async () => {
    const { calls, loop } = setup({ paused: true });
    const run = fakeRun();
    await assert.rejects(loop(run, acting(run)), DelayedError);
    assert.equal(run.delays.length, 1);
    assert.deepEqual(calls, []);
    const side = fakeRun();
    await loop(side, notifying(side));
    assert.deepEqual(
      calls.map(({ name }) => name),
      ['promote'],
    );
  });

  test('a run whose lease lapsed fails with REM_LOCK_LOST before its next step acts', async () => {
    const { calls, loop } = setup();
    const run = fakeRun();
    run.held.lease = lease(false);
    await assert.rejects(loop(run, acting(run)), FailedRun);
    assert.ok(isAppError(run.failures[0]) && run.failures[0].code === errorCodes.LOCK_LOST);
    assert.deepEqual(calls, []);
  });

  test("the acting loop gives each step the fencing token of the run's lease; the notify loop gives none", async () => {
    const { calls, loop } = setup();
    const run = fakeRun();
    run.held.lease = lease(true, 41);
    await loop(run, acting(run));
    await loop(run, notifying(run));
    assert.deepEqual(
      calls.map(({ context }) => context.fencingToken),
      [41, undefined],
    );
  });

  test('a step stopped by the shutdown hands the run back to the queue at once, without failing it', async () => {
    const shutdown = new AbortController();
    const { loop } = setup({
      hanging: ['promote'],
      onHang: () => {
        shutdown.abort(handBackReason);
      },
    });
    const run = fakeRun();
    const before = Date.now();
    await assert.rejects(loop(run, acting(run, { signal: shutdown.signal })), DelayedError);
    assert.deepEqual(run.failures, []);
    assert.ok((run.delays[0] ?? 0) >= before && (run.delays[0] ?? Infinity) <= Date.now(), 'delayed until now: another worker takes it');
    assert.equal(run.data.steps[0]?.status, 'failed', 'the interrupted step is recorded, and runs again');
  });

  test('the acting loop drops records an earlier version of the playbook left after the step it runs; the notify loop keeps them', async () => {
    const { loop } = setup();
    const stale = [done('old-one', 'failed'), done('old-two')];
    const run = fakeRun({ data: runData({ steps: structuredClone(stale), skipSteps: structuredClone(stale) }) });
    await loop(run, acting(run));
    assert.deepEqual(
      run.data.steps.map(({ name }) => name),
      ['promote'],
    );
    await loop(run, notifying(run));
    assert.deepEqual(
      run.data.skipSteps.map(({ name }) => name),
      ['promote', 'old-two'],
    );
  });

  test("an earlier attempt that ran the step on another host leaves a warning on the new attempt's record", async () => {
    const { loop } = setup();
    const elsewhere = { pid: 77, pgid: 77, host: `not-${hostname()}`, bootId: 'boot', startTime: '5', killAfterMs: 100 };
    const run = fakeRun({ data: runData({ steps: [{ ...done('promote', 'running'), process: elsewhere }] }) });
    await loop(run, acting(run));
    assert.deepEqual(run.data.steps[0]?.warnings, [`attempt 1 ran this step on not-${hostname()} (pid 77); it may still be running there`]);
    assert.equal(run.data.steps[0].attempts, 2);
  });

  test('a dry run records each step as would-run with its rendered parameters and runs no action', async () => {
    const { calls, loop } = setup();
    const run = fakeRun({
      data: runData({ dryRun: true }),
      playbook: playbook({ steps: [step('promote', 'record', { with: { name: '{{ labels.instance }}' } })] }),
    });
    await loop(run, acting(run));
    assert.deepEqual(calls, []);
    assert.deepEqual(
      run.data.steps.map(({ status, params }) => ({ status, params })),
      [{ status: 'would-run', params: { name: 'cache-a' } }],
    );
  });

  test("every step's duration is observed by action and outcome, in either loop", async () => {
    const { loop, registry } = setup({ failing: { stop: transientError('refused') } });
    const run = fakeRun({ playbook: playbook({ steps: [step('promote')] }) });
    await loop(run, acting(run));
    const side = fakeRun({ playbook: playbook({ steps: [step('stop')] }) });
    await assert.rejects(loop(side, notifying(side)));
    const text = await registry.getSingleMetricAsString('remediator_step_duration_seconds');
    assert.match(text, /remediator_step_duration_seconds_count\{action="record",outcome="succeeded"\} 1/);
    assert.match(text, /remediator_step_duration_seconds_count\{action="record",outcome="failed"\} 1/);
  });
});
