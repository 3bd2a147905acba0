import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { QueryData } from '../../src/promql/prometheus-client.js';
import { createAdmissionGate } from '../../src/runner/gates/admission-gate.js';
import { createApprovalGate } from '../../src/runner/gates/approval-gate.js';
import { createBudgetsGate } from '../../src/runner/gates/budgets-gate.js';
import { createCooldownGate } from '../../src/runner/gates/cooldown-gate.js';
import { createFailbackSupersededGate } from '../../src/runner/gates/failback-superseded-gate.js';
import { pass, type Gate, type GateVerdict } from '../../src/runner/gates/gate.js';
import { createGuardsGate } from '../../src/runner/gates/guards-gate.js';
import { createHoldGate } from '../../src/runner/gates/hold-gate.js';
import { createLeaseGate } from '../../src/runner/gates/lease-gate.js';
import { createPauseGate } from '../../src/runner/gates/pause-gate.js';
import { createRecordedSkipGate } from '../../src/runner/gates/recorded-skip-gate.js';
import { createRenewalGate } from '../../src/runner/gates/renewal-gate.js';
import { createSlotGate, type SlotGateDeps } from '../../src/runner/gates/slot-gate.js';
import { together } from '../../src/runner/gates/together.js';
import type { BudgetDecision } from '../../src/state/run-budgets.js';
import type { TargetLease } from '../../src/state/target-lock.js';
import { fakeRun, playbook, runData } from './fake-run.js';

const clock = () => new Date('2026-01-01T00:01:00.000Z');

/** The skip of a verdict, failing the test when it is none. */
function skipOf(verdict: GateVerdict) {
  assert.equal(verdict.kind, 'skip', JSON.stringify(verdict));
  return verdict.skip;
}

/** A lease held in memory; `taken` makes its renewals and isHeld answer false. */
function memoryLease(token = 7) {
  const calls = { renew: 0, release: 0 };
  const state = { taken: false };
  const lease: TargetLease = {
    target: 'cache-a',
    fencingToken: token,
    isHeld: () => Promise.resolve(!state.taken),
    renew: () => {
      calls.renew += 1;
      return Promise.resolve(!state.taken);
    },
    release: () => {
      calls.release += 1;
      return Promise.resolve();
    },
  };
  return { lease, calls, state };
}

/** A Prometheus answering every query with one vector, empty or with one series. */
const prometheus = (series: number, queries: string[] = []) => ({
  baseUrl: 'http://127.0.0.1:9',
  query: (expression: string): Promise<QueryData> => {
    queries.push(expression);
    return Promise.resolve({
      resultType: 'vector',
      result: Array.from({ length: series }, () => ({ metric: { instance: 'cache-b' }, value: [0, '1'] as [number, string] })),
    });
  },
});

describe('the pause, hold and recorded-skip gates', () => {
  test('while the kill switch is on a run waits for the retry period, and once it is off the run goes on', async () => {
    const state = { paused: true };
    const gate = createPauseGate({ isPaused: () => Promise.resolve(state.paused), retryMs: 60_000 });
    const before = Date.now();
    const waiting = await gate.check(fakeRun());
    assert.equal(waiting.kind, 'wait');
    assert.ok(waiting.untilMs >= before + 60_000);
    assert.equal(waiting.why, 'remediation is paused');
    state.paused = false;
    assert.deepEqual(await gate.check(fakeRun()), pass);
  });

  test("a held target skips the run with the hold's reason, its end and who held it in the log", async () => {
    const hold = { reason: 'maintenance', until: '2026-01-01T02:00:00.000Z', by: 'ops' };
    const gate = createHoldGate({ holds: { get: (target) => Promise.resolve(target === 'cache-a' ? hold : undefined) }, now: clock });
    const verdict = await gate.check(fakeRun());
    assert.deepEqual(skipOf(verdict), {
      kind: 'hold',
      reason: 'target cache-a is held until 2026-01-01T02:00:00.000Z: maintenance',
      at: clock().toISOString(),
    });
    assert.deepEqual(verdict.kind === 'skip' ? verdict.log : undefined, { fields: { hold }, message: 'run skipped: target held' });
    assert.deepEqual(await gate.check(fakeRun({ data: runData({ target: 'cache-b' }) })), pass);
  });

  test('a run started by hand goes on through a hold, and a skipped one is noted for a recheck once the hold ends', async () => {
    const hold = { reason: 'patching', until: '2026-01-01T02:00:00.000Z', by: 'ops' };
    const noted: string[] = [];
    const gate = createHoldGate({
      holds: { get: () => Promise.resolve(hold) },
      rechecks: {
        note: (runId) => {
          noted.push(runId);
          return Promise.resolve();
        },
      },
      now: clock,
    });
    assert.deepEqual(await gate.check(fakeRun({ data: runData({ source: 'manual', startedBy: 'ops' }) })), pass);
    assert.deepEqual(noted, []);
    assert.equal(skipOf(await gate.check(fakeRun({ data: runData({ dryRun: true }) }))).kind, 'hold');
    assert.deepEqual(noted, [], 'a dry run acts on nothing: nothing to run again');
    const run = fakeRun();
    assert.equal(skipOf(await gate.check(run)).kind, 'hold');
    assert.deepEqual(noted, [run.id]);
  });

  test('a skip recorded by an earlier attempt stands, and a run without one goes on', async () => {
    const skip = { kind: 'guard', reason: 'guard lag failed', at: '2026-01-01T00:00:40.000Z' } as const;
    assert.deepEqual(skipOf(await createRecordedSkipGate().check(fakeRun({ data: runData({ skip }) }))), skip);
    assert.deepEqual(await createRecordedSkipGate().check(fakeRun()), pass);
  });

  test('gates checked together read at once, and the first one in order that stops the run wins', { timeout: 5000 }, async () => {
    const sent: string[] = [];
    let bothSent: (value?: unknown) => void = () => undefined;
    const allSent = new Promise((resolve) => {
      bothSent = resolve;
    });
    // Neither read answers before both were sent: one round trip, not two (checked one after the other, it hangs).
    const gate = (name: string, verdict: GateVerdict): Gate => ({
      name,
      async check() {
        sent.push(name);
        if (sent.length === 2) bothSent();
        await allSent;
        return verdict;
      },
    });
    const wait: GateVerdict = { kind: 'wait', untilMs: 1, why: 'paused' };
    const skip: GateVerdict = { kind: 'skip', skip: { kind: 'hold', reason: 'held', at: 'now' } };
    assert.deepEqual(await together(gate('pause', wait), gate('hold', skip)).check(fakeRun()), wait);
    assert.deepEqual(sent, ['pause', 'hold']);
  });

  test('what a gate checked together took is given back when the other one stops the run', async () => {
    const released: string[] = [];
    const taking: Gate = {
      name: 'taking',
      check: () =>
        Promise.resolve({
          kind: 'pass',
          release: () => {
            released.push('taking');
            return Promise.resolve();
          },
        }),
    };
    const stopping: Gate = { name: 'stopping', check: () => Promise.resolve({ kind: 'wait', untilMs: 1, why: 'no' }) };
    assert.equal((await together(taking, stopping).check(fakeRun())).kind, 'wait');
    assert.deepEqual(released, ['taking']);
  });
});

describe('the concurrency slot, lease and renewal gates', () => {
  const slotDeps = (free: boolean, extra: Partial<SlotGateDeps> = {}) => {
    const calls: string[] = [];
    const deps: SlotGateDeps = {
      budgets: {
        acquireSlot: (runId, max, ttlMs) => {
          calls.push(`acquire ${runId} ${max} ${ttlMs}`);
          return Promise.resolve(free);
        },
        releaseSlot: (runId) => {
          calls.push(`release ${runId}`);
          return Promise.resolve();
        },
      },
      maxConcurrentRuns: 2,
      whenFull: 'wait',
      ttlMs: 30_000,
      retryMs: 500,
      now: clock,
      ...extra,
    };
    return { deps, calls };
  };

  test('a free slot is taken for the run and given back when the run ends', async () => {
    const { deps, calls } = slotDeps(true);
    const run = fakeRun();
    const verdict = await createSlotGate(deps).check(run);
    assert.equal(run.held.slot, true);
    assert.ok(verdict.kind === 'pass' && verdict.release);
    await verdict.release();
    assert.deepEqual(calls, ['acquire run-1 2 30000', 'release run-1']);
  });

  test('with every slot taken a run waits, or in skip mode is skipped when it has not acted yet', async () => {
    const waiting = await createSlotGate(slotDeps(false).deps).check(fakeRun());
    assert.ok(waiting.kind === 'wait' && waiting.why === 'concurrency: 2 runs are already acting');
    const skipped = await createSlotGate(slotDeps(false, { whenFull: 'skip' }).deps).check(fakeRun());
    assert.deepEqual(skipOf(skipped), { kind: 'concurrency', reason: 'concurrency: 2 runs are already acting', at: clock().toISOString() });
  });

  test('a run that already acted waits for a slot even in skip mode: skipping it would leave half a failover done', async () => {
    const verdict = await createSlotGate(slotDeps(false, { whenFull: 'skip' }).deps).check(
      fakeRun({ data: runData({ admittedAt: '2026-01-01T00:00:50.000Z' }) }),
    );
    assert.equal(verdict.kind, 'wait');
  });

  test('without a concurrency limit no slot is asked for', async () => {
    const { deps, calls } = slotDeps(false, { maxConcurrentRuns: 0 });
    assert.deepEqual(await createSlotGate(deps).check(fakeRun()), pass);
    assert.deepEqual(calls, []);
  });

  test('a busy target makes the run wait for the lease retry period; a free one is leased and released at the end', async () => {
    const busy = await createLeaseGate({ locks: { acquire: () => Promise.resolve(undefined) }, retryMs: 250 }).check(fakeRun());
    assert.ok(busy.kind === 'wait' && busy.why === 'target cache-a is busy');
    const { lease, calls } = memoryLease();
    const owners: string[] = [];
    const run = fakeRun();
    const verdict = await createLeaseGate({
      locks: {
        acquire: (target, owner) => {
          owners.push(`${target} ${owner}`);
          return Promise.resolve(lease);
        },
      },
      retryMs: 250,
    }).check(run);
    assert.equal(run.held.lease, lease);
    assert.deepEqual(owners, ['cache-a run-1']);
    assert.ok(verdict.kind === 'pass' && verdict.release);
    await verdict.release();
    assert.equal(calls.release, 1);
  });

  test("the renewal keeps the slot and the lease, and a lease found taken over aborts the run's lease-lost signal", async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const { lease, calls, state } = memoryLease();
    const slotRenewals: string[] = [];
    const run = fakeRun();
    Object.assign(run.held, { slot: true, lease });
    const verdict = await createRenewalGate({
      budgets: {
        acquireSlot: (runId, max, ttlMs) => {
          slotRenewals.push(`${runId} ${max} ${ttlMs}`);
          return Promise.resolve(true);
        },
      },
      maxConcurrentRuns: 3,
      slotTtlMs: 3000,
      everyMs: 1000,
    }).check(run);
    t.mock.timers.tick(1000);
    assert.deepEqual(slotRenewals, ['run-1 3 3000']);
    assert.equal(calls.renew, 1);
    state.taken = true;
    const lost = new Promise<unknown>((resolve) => {
      run.held.leaseLost.signal.addEventListener('abort', () => {
        resolve(run.held.leaseLost.signal.reason);
      });
    });
    t.mock.timers.tick(1000);
    assert.match(String(await lost), /lost the lease on cache-a/);
    assert.ok(verdict.kind === 'pass' && verdict.release);
    await verdict.release();
    t.mock.timers.tick(5000);
    assert.equal(calls.renew, 2, 'no renewal after the run ended');
  });
});

describe('the approval gate', () => {
  const approval = {
    timeoutMs: 60_000,
    onTimeout: 'abort' as const,
    notify: [{ name: 'page', action: 'record', with: {}, timeoutMs: 1000 }],
  };
  const gate = (
    decision?: { decision: 'approved' | 'rejected'; by: string; comment?: string },
    notify = () => Promise.resolve(),
    now = clock,
  ) =>
    createApprovalGate({
      approvals: { get: () => Promise.resolve(decision && { ...decision, via: 'api' as const, at: '2026-01-01T00:01:30.000Z' }) },
      notify,
      now,
    });

  test('the first attempt records the request, notifies once, and waits in the delayed set until the deadline', async () => {
    const notified: string[] = [];
    const run = fakeRun({ playbook: playbook({ approval }) });
    const verdict = await gate(undefined, () => {
      notified.push('page');
      return Promise.resolve();
    }).check(run);
    assert.deepEqual(run.data.approval, {
      state: 'pending',
      requestedAt: '2026-01-01T00:01:00.000Z',
      deadline: '2026-01-01T00:02:00.000Z',
      onTimeout: 'abort',
      notifySteps: [],
    });
    assert.equal(run.checkpoints.length, 1, 'the request is checkpointed before anyone is told');
    assert.deepEqual(notified, ['page']);
    assert.ok(verdict.kind === 'wait' && verdict.untilMs === Date.parse('2026-01-01T00:02:00.000Z'));
  });

  test('a decision already made is taken at once, and one made while the attempt was notifying wakes the job once it is delayed', async () => {
    assert.deepEqual(await gate({ decision: 'approved', by: 'ana' }).check(fakeRun({ playbook: playbook({ approval }) })), pass);
    const run = fakeRun({ playbook: playbook({ approval }) });
    // Nobody decided when the attempt looked; someone clicked during the notification.
    const answers = [undefined, { decision: 'approved' as const, by: 'ana', via: 'api' as const, at: '2026-01-01T00:01:10.000Z' }];
    const late = await createApprovalGate({
      approvals: { get: () => Promise.resolve(answers.shift()) },
      notify: () => Promise.resolve(),
      now: clock,
    }).check(run);
    assert.ok(late.kind === 'wait' && late.afterMove);
    assert.equal(run.promotions.count, 0);
    await late.afterMove();
    assert.equal(run.promotions.count, 1);

    const undecided = fakeRun({ playbook: playbook({ approval }) });
    const waiting = await gate(undefined).check(undecided);
    assert.ok(waiting.kind === 'wait' && waiting.afterMove);
    await waiting.afterMove();
    assert.equal(undecided.promotions.count, 0, 'nobody decided: the job sleeps until its deadline');
  });

  test('a rejection skips the run naming who rejected it and why', async () => {
    const run = fakeRun({ playbook: playbook({ approval }) });
    const verdict = await gate({ decision: 'rejected', by: 'ana', comment: 'not during the sale' }).check(run);
    assert.deepEqual(skipOf(verdict), {
      kind: 'approval-rejected',
      reason: 'rejected by ana via api: not during the sale',
      at: clock().toISOString(),
    });
    assert.equal(run.data.approval?.state, 'rejected');
    assert.equal(run.checkpoints.at(-1)?.approval?.by, 'ana', 'the decision is checkpointed');
  });

  test('nobody deciding by the deadline skips the run with onTimeout: abort and lets it act with onTimeout: proceed', async () => {
    const late = () => new Date('2026-01-01T00:05:00.000Z');
    const pending = {
      state: 'pending' as const,
      requestedAt: '2026-01-01T00:01:00.000Z',
      deadline: '2026-01-01T00:02:00.000Z',
      notifySteps: [],
    };
    const aborting = await gate(undefined, undefined, late).check(
      fakeRun({ playbook: playbook({ approval }), data: runData({ approval: { ...pending, onTimeout: 'abort' } }) }),
    );
    assert.deepEqual(skipOf(aborting), {
      kind: 'approval-timeout',
      reason: 'nobody approved by 2026-01-01T00:02:00.000Z (onTimeout: abort)',
      at: late().toISOString(),
    });
    const proceeding = await gate(undefined, undefined, late).check(
      fakeRun({ playbook: playbook({ approval }), data: runData({ approval: { ...pending, onTimeout: 'proceed' } }) }),
    );
    assert.deepEqual(proceeding, pass);
  });

  test('a dry run records the request but waits for nobody, and a failed notification still leaves the run waiting', async () => {
    const dry = fakeRun({ playbook: playbook({ approval }), data: runData({ dryRun: true }) });
    assert.deepEqual(await gate(undefined, () => Promise.reject(new Error('must not notify'))).check(dry), pass);
    assert.equal(dry.data.approval?.state, 'pending');
    const live = fakeRun({ playbook: playbook({ approval }) });
    const verdict = await gate(undefined, () => Promise.reject(new Error('smtp refused'))).check(live);
    assert.equal(verdict.kind, 'wait');
    assert.ok(live.logs.some((line) => line.msg === 'an approval notification failed; the run still waits for a decision'));
  });

  test('a playbook without approval lets every run through', async () => {
    assert.deepEqual(await gate().check(fakeRun()), pass);
  });
});

describe('admission: guards and budgets, decided once', () => {
  const guard = {
    name: 'replica-healthy',
    query: 'up{instance="{{ labels.instance }}"}',
    expect: 'true' as const,
    onError: 'skip' as const,
  };
  const budgets = (decision: BudgetDecision, asked: string[] = []) => ({
    admit: (request: { runId: string; target: string }) => {
      asked.push(`${request.runId} ${request.target}`);
      return Promise.resolve(decision);
    },
  });

  test('a guard without a result skips the run naming the guard, its query and what it found, and records every guard', async () => {
    const run = fakeRun({ playbook: playbook({ guards: [guard] }) });
    const queries: string[] = [];
    const verdict = await createGuardsGate({ prometheus: prometheus(0, queries), now: clock }).check(run);
    assert.equal(skipOf(verdict).kind, 'guard');
    assert.equal(skipOf(verdict).reason, 'guard replica-healthy failed: up{instance="cache-a"} returned [], expected a result');
    assert.deepEqual(queries, ['up{instance="cache-a"}']);
    assert.equal(run.data.guards?.[0]?.status, 'failed');
  });

  test('guards fail closed: without Prometheus a guard cannot be evaluated and the run is skipped', async () => {
    const verdict = await createGuardsGate({ prometheus: undefined, now: clock }).check(
      fakeRun({ playbook: playbook({ guards: [guard] }) }),
    );
    assert.match(skipOf(verdict).reason, /could not be evaluated \(PROMETHEUS_URL is not configured\)/);
  });

  test("a budget refusal skips the run with the budget's kind and reason", async () => {
    const verdict = await createBudgetsGate({
      budgets: budgets({ admitted: false, kind: 'cooldown', reason: 'cooldown: last run 10s ago', lastRunAt: 'then' }),
      global: undefined,
      now: clock,
    }).check(fakeRun());
    assert.deepEqual(skipOf(verdict), { kind: 'cooldown', reason: 'cooldown: last run 10s ago', at: clock().toISOString() });
  });

  test("the budgets are asked at the pipeline's time, not the wall's: the playbook simulator replays alerts at their own", async () => {
    const times: (number | undefined)[] = [];
    await createBudgetsGate({
      budgets: {
        admit: (request) => {
          times.push(request.nowMs);
          return Promise.resolve({ admitted: true });
        },
      },
      global: undefined,
      now: clock,
    }).check(fakeRun());
    assert.deepEqual(times, [clock().getTime()]);
  });

  test('an admitted run records when it was admitted and when its first step starts, in one checkpoint', async () => {
    const run = fakeRun({ playbook: playbook({ guards: [guard] }) });
    const verdict = await createAdmissionGate({
      gates: [
        createGuardsGate({ prometheus: prometheus(1), now: clock }),
        createBudgetsGate({ budgets: budgets({ admitted: true }), global: undefined, now: clock }),
      ],
      now: clock,
    }).check(run);
    assert.deepEqual(verdict, pass);
    assert.equal(run.checkpoints.length, 1);
    assert.equal(run.checkpoints[0]?.admittedAt, clock().toISOString());
    assert.equal(run.checkpoints[0].firstStartedAt, clock().toISOString());
    assert.equal(run.checkpoints[0].guards?.[0]?.status, 'passed');
  });

  test('a failed guard is not followed by the budgets, and the run is not admitted', async () => {
    const asked: string[] = [];
    const run = fakeRun({ playbook: playbook({ guards: [guard] }) });
    const verdict = await createAdmissionGate({
      gates: [
        createGuardsGate({ prometheus: prometheus(0), now: clock }),
        createBudgetsGate({ budgets: budgets({ admitted: true }, asked), global: undefined, now: clock }),
      ],
      now: clock,
    }).check(run);
    assert.equal(verdict.kind, 'skip');
    assert.deepEqual(asked, []);
    assert.equal(run.data.admittedAt, undefined);
    assert.equal(run.checkpoints[0]?.guards?.length, 1, 'the guards are checkpointed with the decision');
  });

  test('a run admitted on an earlier attempt is not asked again, whatever the guards would say now', async () => {
    const refusing: Gate = { name: 'refusing', check: () => Promise.reject(new Error('must not be asked')) };
    const run = fakeRun({ data: runData({ admittedAt: '2026-01-01T00:00:50.000Z' }) });
    assert.deepEqual(await createAdmissionGate({ gates: [refusing], now: clock }).check(run), pass);
    assert.equal(run.checkpoints.length, 0);
  });

  test('the cooldown starts when an admitted run ends, and not for a run that was never admitted', async () => {
    const started: string[] = [];
    const gate = createCooldownGate({
      budgets: {
        finished: (request) => {
          started.push(`${request.playbook} ${request.target}`);
          return Promise.resolve();
        },
        standDown: () => Promise.reject(new Error('not skipped')),
      },
    });
    for (const admittedAt of [undefined, '2026-01-01T00:00:50.000Z']) {
      const verdict = await gate.check(fakeRun({ data: runData(admittedAt === undefined ? {} : { admittedAt }) }));
      assert.ok(verdict.kind === 'pass' && verdict.release);
      await verdict.release();
    }
    assert.deepEqual(started, ['failover cache-a']);
  });

  test("the cooldown starts at the pipeline's time when one is given", async () => {
    const times: (number | undefined)[] = [];
    const gate = createCooldownGate({
      budgets: {
        finished: (request) => {
          times.push(request.nowMs);
          return Promise.resolve();
        },
        standDown: () => Promise.reject(new Error('not skipped')),
      },
      now: clock,
    });
    const verdict = await gate.check(fakeRun({ data: runData({ admittedAt: '2026-01-01T00:00:50.000Z' }) }));
    assert.ok(verdict.kind === 'pass' && verdict.release);
    await verdict.release();
    assert.deepEqual(times, [clock().getTime()]);
  });

  test('an admitted run that a step skipped takes its cooldown back instead of starting it: it changed nothing, the next failover must not wait', async () => {
    const started: string[] = [];
    const stoodDown: string[] = [];
    const gate = createCooldownGate({
      budgets: {
        finished: (request) => {
          started.push(request.target);
          return Promise.resolve();
        },
        standDown: (request) => {
          stoodDown.push(`${request.runId} ${request.target}`);
          return Promise.resolve();
        },
      },
    });
    const skip = { kind: 'primary-reachable-from-replicas' as const, reason: 'cache-b still sees cache-a', at: clock().toISOString() };
    const run = fakeRun({ data: runData({ admittedAt: '2026-01-01T00:00:50.000Z' }) });
    const verdict = await gate.check(run);
    assert.ok(verdict.kind === 'pass' && verdict.release);
    run.data.skip = skip; // decided by the step, after the gates passed
    await verdict.release();
    assert.deepEqual(started, []);
    assert.deepEqual(stoodDown, [`${run.id} cache-a`]);
  });

  test('a run skipped for an unconfirmed death is noted for a recheck, a refused switchover is not (it answers an operator, not an alert)', async () => {
    const noted: string[] = [];
    const gate = createCooldownGate({
      budgets: { finished: () => Promise.resolve(), standDown: () => Promise.resolve() },
      rechecks: {
        note: (runId) => {
          noted.push(runId);
          return Promise.resolve();
        },
      },
    });
    const at = clock().toISOString();
    for (const kind of ['death-unconfirmed', 'switchover-refused'] as const) {
      const run = fakeRun({ data: runData({ admittedAt: '2026-01-01T00:00:50.000Z' }) });
      const verdict = await gate.check(run);
      assert.ok(verdict.kind === 'pass' && verdict.release);
      run.data.skip = { kind, reason: kind, at };
      await verdict.release();
      noted.push(`(${kind})`);
    }
    assert.deepEqual(noted, ['run-1', '(death-unconfirmed)', '(switchover-refused)']);
  });

  test('a cooldown that cannot be started is logged, not thrown: the run has ended', async () => {
    const run = fakeRun({ data: runData({ admittedAt: '2026-01-01T00:00:50.000Z' }) });
    const verdict = await createCooldownGate({
      budgets: { finished: () => Promise.reject(new Error('Connection is closed.')), standDown: () => Promise.resolve() },
    }).check(run);
    assert.ok(verdict.kind === 'pass' && verdict.release);
    await verdict.release();
    assert.ok(run.logs.some((line) => line.msg === 'could not start the cooldown'));
  });
});

describe('the failback superseded gate', () => {
  test('a failback whose alert fired again after it resolved is cancelled; one that stayed resolved goes on', async () => {
    const failback = (newest: string) => ({ newestFiring: () => Promise.resolve(Date.parse(newest)) });
    const run = fakeRun({ data: runData({ phase: 'failback' }) });
    const again = await createFailbackSupersededGate({ failback: failback('2026-01-01T00:10:00.000Z') }).check(run);
    assert.deepEqual(again, {
      kind: 'cancel',
      log: { fields: { newestFiring: '2026-01-01T00:10:00.000Z' }, message: 'failback skipped: the alert fired again after it resolved' },
    });
    assert.deepEqual(await createFailbackSupersededGate({ failback: failback('2026-01-01T00:00:00.000Z') }).check(run), pass);
  });
});
