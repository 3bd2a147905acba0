import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DelayedError } from 'bullmq';
import type { SkipRecord } from '../../src/core/run-data.js';
import type { RunResult } from '../../src/runner/run-context.js';
import { createRunPipelines, passGates, type PipelineDeps } from '../../src/runner/run-pipeline.js';
import type { TargetLease } from '../../src/state/target-lock.js';
import { fakeRun, playbook, runData, step, type FakeRun } from './fake-run.js';

const clock = () => new Date('2026-01-01T00:01:00.000Z');

/** What the fakes behind the gates answer. */
interface World {
  paused?: boolean;
  held?: boolean;
  decided?: boolean;
  slotFree?: boolean;
  leaseFree?: boolean;
  guardPasses?: boolean;
  firedAgain?: boolean;
  whenFull?: 'wait' | 'skip';
}

/** Fakes of every small interface the gates use, each call noted in `events`. */
function world(answers: World = {}) {
  const events: string[] = [];
  const note = <T>(event: string, value: T) => {
    events.push(event);
    return Promise.resolve(value);
  };
  const lease: TargetLease = {
    target: 'cache-a',
    fencingToken: 3,
    isHeld: () => note('isHeld', true),
    renew: () => note('renew', true),
    release: () => note('release lease', undefined),
  };
  const deps: PipelineDeps = {
    isPaused: () => note('isPaused', answers.paused ?? false),
    holds: {
      get: () => note('holds.get', answers.held ? { reason: 'maintenance', until: '2026-01-01T02:00:00.000Z', by: 'ops' } : undefined),
    },
    approvals: {
      get: () =>
        note(
          'approvals.get',
          answers.decided === false ? undefined : { decision: 'approved' as const, by: 'ana', via: 'api' as const, at: 'then' },
        ),
    },
    budgets: {
      acquireSlot: () => note('acquireSlot', answers.slotFree ?? true),
      releaseSlot: () => note('releaseSlot', undefined),
      admit: () => note('admit', { admitted: true as const }),
      finished: () => note('finished', undefined),
      standDown: () => note('standDown', undefined),
    },
    global: { maxConcurrentRuns: 1, maxTargets: 0, targetsWindowMs: 0, concurrencyExceeded: answers.whenFull ?? 'wait' },
    locks: { acquire: () => note('acquire lease', answers.leaseFree === false ? undefined : lease) },
    prometheus: {
      baseUrl: 'http://127.0.0.1:9',
      query: () =>
        note('query', {
          resultType: 'vector' as const,
          result: answers.guardPasses === false ? [] : [{ metric: {}, value: [0, '1'] as [number, string] }],
        }),
    },
    failback: { newestFiring: () => note('newestFiring', answers.firedAgain ? Date.parse('2026-01-01T00:30:00.000Z') : undefined) },
    waitRetryMs: 500,
  };
  const pipelines = createRunPipelines(deps, () => note('notify', undefined), clock);
  /** Takes `run` through its phase's gates; the phases note that they were reached. */
  const through = (run: FakeRun) =>
    passGates(
      run,
      run.data.phase === 'failback' ? pipelines.failback : pipelines.remediate,
      (skip: SkipRecord) => note(`skipped: ${skip.kind}`, { skipped: skip.reason } as RunResult),
      () => note('act', { steps: [] } as unknown as RunResult),
    );
  return { events, through };
}

const guarded = playbook({
  guards: [{ name: 'replica-ready', query: 'up', expect: 'true', onError: 'skip' }],
  approval: { timeoutMs: 60_000, onTimeout: 'abort', notify: [] },
  resolved: { delayMs: 1000, steps: [step('fence')] },
});

describe('the gate pipeline, without Redis', () => {
  test('a remediation meets the kill switch and hold together, then approval, slot, lease, guards and budgets, and gives back what it took in reverse', async () => {
    const { events, through } = world();
    await through(fakeRun({ playbook: guarded }));
    assert.deepEqual(events, [
      'isPaused',
      'holds.get',
      'approvals.get',
      'acquireSlot',
      'acquire lease',
      'query',
      'admit',
      'act',
      'finished',
      'release lease',
      'releaseSlot',
    ]);
  });

  test('a failback is neither held, nor waits for approval, nor asks its guards or budgets again: fencing a returning primary is never held back', async () => {
    const { events, through } = world({ held: true, decided: false, guardPasses: false });
    await through(fakeRun({ playbook: guarded, data: runData({ phase: 'failback' }) }));
    assert.deepEqual(events, ['newestFiring', 'isPaused', 'acquireSlot', 'acquire lease', 'act', 'release lease', 'releaseSlot']);
  });

  test('a failback whose alert fired again is cancelled before it takes anything, and counted as cancelled', async () => {
    const { events, through } = world({ firedAgain: true });
    const run = fakeRun({ playbook: guarded, data: runData({ phase: 'failback' }) });
    const result = await through(run);
    assert.equal(result.cancelled, true);
    assert.deepEqual(run.outcomes, [{ outcome: 'cancelled' }]);
    assert.deepEqual(events, ['newestFiring']);
  });

  test('the kill switch parks a run before it takes a slot, but a skip recorded earlier finishes even while paused', async () => {
    const paused = world({ paused: true });
    const run = fakeRun({ playbook: guarded });
    await assert.rejects(paused.through(run), DelayedError);
    assert.equal(run.delays.length, 1);
    assert.deepEqual(paused.events, ['isPaused', 'holds.get'], 'one round trip, nothing taken');

    const recorded = world({ paused: true });
    await recorded.through(fakeRun({ playbook: guarded, data: runData({ skip: { kind: 'guard', reason: 'guard failed', at: 'then' } }) }));
    assert.deepEqual(recorded.events, ['skipped: guard']);
  });

  test('a paused and held target waits for the kill switch rather than recording a skip', async () => {
    const { events, through } = world({ paused: true, held: true });
    const run = fakeRun({ playbook: guarded });
    await assert.rejects(through(run), DelayedError);
    assert.equal(run.data.skip, undefined);
    assert.ok(!events.some((event) => event.startsWith('skipped')));
  });

  test('a run waiting for its busy target gives its concurrency slot back while it waits', async () => {
    const { events, through } = world({ leaseFree: false });
    await assert.rejects(through(fakeRun({ playbook: guarded })), DelayedError);
    assert.deepEqual(events.slice(-2), ['acquire lease', 'releaseSlot']);
  });

  test('a guard that fails under the lease finishes the skip while the lease is held, and no cooldown starts', async () => {
    const { events, through } = world({ guardPasses: false });
    await through(fakeRun({ playbook: guarded }));
    assert.deepEqual(events.slice(-4), ['query', 'skipped: guard', 'release lease', 'releaseSlot']);
  });

  test('with every slot taken in skip mode a new remediation is skipped, while a failback waits for a slot', async () => {
    const remediation = world({ slotFree: false, whenFull: 'skip' });
    await remediation.through(fakeRun({ playbook: guarded }));
    assert.equal(remediation.events.at(-1), 'skipped: concurrency');
    const failback = world({ slotFree: false, whenFull: 'skip' });
    await assert.rejects(failback.through(fakeRun({ playbook: guarded, data: runData({ phase: 'failback' }) })), DelayedError);
  });

  test('a run admitted on an earlier attempt is not asked about its guards or budgets again, and still starts the cooldown', async () => {
    const { events, through } = world({ guardPasses: false });
    await through(
      fakeRun({
        playbook: guarded,
        data: runData({
          admittedAt: '2026-01-01T00:00:50.000Z',
          approval: { state: 'approved', requestedAt: 'a', deadline: 'b', onTimeout: 'abort', notifySteps: [] },
        }),
      }),
    );
    assert.deepEqual(events, ['isPaused', 'holds.get', 'acquireSlot', 'acquire lease', 'act', 'finished', 'release lease', 'releaseSlot']);
  });
});
