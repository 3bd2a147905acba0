import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import type { PlaybookBudget } from '../../src/core/playbook.js';
import { createRunBudgets, type BudgetDecision, type GlobalBudget, type RunBudgets } from '../../src/state/run-budgets.js';
import type { RunData } from '../../src/core/run-data.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { lines } from '../helpers/lines.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const minute = 60_000;
const hour = 60 * minute;
const noGlobal: GlobalBudget = { maxConcurrentRuns: 0, maxTargets: 0, targetsWindowMs: 0 };

/** The decision's kind, for compact assertions: 'admitted' or the refusal's kind. */
const kindOf = (decision: BudgetDecision) => (decision.admitted ? 'admitted' : decision.kind);

/** The most runs acting at once, from a log where each run appends `start` when it begins and `end` when it is done. */
function mostAtOnce(log: readonly string[]): number {
  let acting = 0;
  let most = 0;
  for (const line of log) {
    acting += line === 'start' ? 1 : -1;
    most = Math.max(most, acting);
  }
  return most;
}

describe('run budgets in Redis', () => {
  let redis: TestRedis;
  // Budgets are computed from `nowMs`; keys still expire on Redis's clock, so every base time is "now" and every
  // window is long enough that nothing expires for real during a test.
  let budgets: () => RunBudgets;

  before(async () => {
    redis = await startRedis();
    const client = redis.client();
    // Every test gets its own prefix, as it would get its own queue name.
    budgets = () => createRunBudgets(client, { prefix: `test-${randomUUID()}` });
  });
  after(async () => {
    await redis.stop();
  });

  test('admission is idempotent per run id: a retry is admitted again and counted once', async () => {
    const runs = budgets();
    const budget: PlaybookBudget = { cooldownMs: 0, maxRuns: 2, windowMs: hour };
    const global: GlobalBudget = { maxConcurrentRuns: 0, maxTargets: 1, targetsWindowMs: hour };
    const admit = (runId: string, target = 'cache-a') => runs.admit({ runId, playbook: 'failover', target, budget, global, dryRun: false });

    for (let attempt = 0; attempt < 3; attempt += 1)
      assert.equal(kindOf(await admit('run-1')), 'admitted', `attempt ${attempt + 1} of run-1`);
    assert.equal(kindOf(await admit('run-2')), 'admitted', 'run-1 spent one of the two runs, not three');
    const third = await admit('run-3');
    assert.equal(kindOf(third), 'max-runs');
    assert.equal(!third.admitted && third.kind === 'max-runs' && third.runsInWindow, 2);
    assert.equal(kindOf(await admit('run-2')), 'admitted', 'an admitted run stays admitted once the budget is spent');
    assert.equal(kindOf(await admit('run-4', 'cache-b')), 'blast-radius', 'the retries did not free a target either');
  });

  test('cooldown: a second run within the cooldown after the first finished is refused, and admitted after it', async () => {
    const runs = budgets();
    const budget: PlaybookBudget = { cooldownMs: 10 * minute, maxRuns: 0, windowMs: 0 };
    const t0 = Date.now();
    const admit = (runId: string, nowMs: number, target = 'cache-a', playbook = 'failover') =>
      runs.admit({ runId, playbook, target, budget, global: noGlobal, dryRun: false, nowMs });

    assert.equal(kindOf(await admit('run-1', t0)), 'admitted');
    // The first run took 5 minutes: the cooldown starts when it ends, not when it was admitted.
    const endedAt = t0 + 5 * minute;
    await runs.finished({ playbook: 'failover', target: 'cache-a', budget, dryRun: false, nowMs: endedAt });

    const early = await admit('run-2', t0 + 12 * minute); // 12 min after admission, 7 min after the end
    assert.equal(kindOf(early), 'cooldown');
    assert.ok(!early.admitted && early.kind === 'cooldown');
    assert.equal(early.lastRunAt, new Date(endedAt).toISOString());
    assert.match(early.reason, /cooldown/);
    assert.match(early.reason, /cache-a/);
    assert.equal(kindOf(await admit('run-2', endedAt + 10 * minute - 1)), 'cooldown', '1 ms before the cooldown passed');

    assert.equal(kindOf(await admit('run-3', t0 + 6 * minute, 'cache-b')), 'admitted', 'another target has its own cooldown');
    assert.equal(
      kindOf(await admit('run-4', t0 + 6 * minute, 'cache-a', 'other-playbook')),
      'admitted',
      'another playbook has its own cooldown',
    );

    assert.equal(kindOf(await admit('run-2', endedAt + 10 * minute)), 'admitted', 'the refused run is admitted once the cooldown passed');
    // run-2 is running (not finished yet): a third run on the target is refused, its cooldown counted from run-2's admission.
    assert.equal(kindOf(await admit('run-5', endedAt + 11 * minute)), 'cooldown');
  });

  test('a run that stands down takes back the cooldown its admission started, but never one a later run started', async () => {
    const runs = budgets();
    const budget: PlaybookBudget = { cooldownMs: 10 * minute, maxRuns: 0, windowMs: 0 };
    const t0 = Date.now();
    const admit = (runId: string, nowMs: number) =>
      runs.admit({ runId, playbook: 'failover', target: 'cache-s', budget, global: noGlobal, dryRun: false, nowMs });

    assert.equal(kindOf(await admit('run-1', t0)), 'admitted');
    assert.equal(kindOf(await admit('run-2', t0 + minute)), 'cooldown', 'admission itself starts the cooldown');
    await runs.standDown({ runId: 'run-1', playbook: 'failover', target: 'cache-s', dryRun: false });
    assert.equal(kindOf(await admit('run-2', t0 + minute)), 'admitted', 'run-1 changed nothing: run-2 may act at once');
    // run-1 standing down again (a retried release) must not clear the cooldown run-2 started.
    await runs.standDown({ runId: 'run-1', playbook: 'failover', target: 'cache-s', dryRun: false });
    assert.equal(kindOf(await admit('run-3', t0 + 2 * minute)), 'cooldown');
  });

  test('a run that stands down gives back its maxRuns entry: runs a step skipped do not use up the budget of a real failover', async () => {
    const runs = budgets();
    const budget: PlaybookBudget = { cooldownMs: 0, maxRuns: 2, windowMs: 10 * minute };
    const t0 = Date.now();
    const admit = (runId: string, nowMs: number) =>
      runs.admit({ runId, playbook: 'failover', target: 'cache-m', budget, global: noGlobal, dryRun: false, nowMs });
    for (const [index, runId] of ['skipped-1', 'skipped-2', 'skipped-3'].entries()) {
      assert.equal(kindOf(await admit(runId, t0 + index * minute)), 'admitted', runId);
      await runs.standDown({ runId, playbook: 'failover', target: 'cache-m', dryRun: false });
    }
    assert.equal(kindOf(await admit('acted-1', t0 + 4 * minute)), 'admitted');
    assert.equal(kindOf(await admit('acted-2', t0 + 5 * minute)), 'admitted');
    assert.equal(kindOf(await admit('acted-3', t0 + 6 * minute)), 'max-runs', 'runs that acted still count');
  });

  test('maxRuns per window refuses the (maxRuns+1)th run and admits again once the window slid', async () => {
    const runs = budgets();
    const budget: PlaybookBudget = { cooldownMs: 0, maxRuns: 3, windowMs: 10 * minute };
    const t0 = Date.now();
    const admit = (runId: string, nowMs: number, target = 'cache-a') =>
      runs.admit({ runId, playbook: 'failover', target, budget, global: noGlobal, dryRun: false, nowMs });

    assert.equal(kindOf(await admit('run-1', t0)), 'admitted');
    assert.equal(kindOf(await admit('run-2', t0 + minute)), 'admitted');
    assert.equal(kindOf(await admit('run-3', t0 + 2 * minute)), 'admitted');
    const fourth = await admit('run-4', t0 + 3 * minute);
    assert.ok(!fourth.admitted && fourth.kind === 'max-runs', JSON.stringify(fourth));
    assert.equal(fourth.runsInWindow, 3);
    assert.match(fourth.reason, /maxRuns 3/);
    assert.equal(kindOf(await admit('run-4', t0 + 3 * minute, 'cache-b')), 'admitted', 'the budget is per target');

    assert.equal(kindOf(await admit('run-5', t0 + 10 * minute - 1)), 'max-runs', 'run-1 is still in the window');
    assert.equal(kindOf(await admit('run-5', t0 + 10 * minute)), 'admitted', 'run-1 slid out of the window');
    assert.equal(kindOf(await admit('run-6', t0 + 10 * minute + 1)), 'max-runs', 'run-2, run-3 and run-5 are in the window');
    assert.equal(kindOf(await admit('run-6', t0 + 11 * minute)), 'admitted', 'run-2 slid out');
  });

  test('blast radius: a target already acted on in the window is admitted, a new one beyond maxTargets is refused', async () => {
    const runs = budgets();
    const global: GlobalBudget = { maxConcurrentRuns: 0, maxTargets: 2, targetsWindowMs: hour };
    const t0 = Date.now();
    const admit = (runId: string, target: string, nowMs: number, playbook = 'failover', budget?: PlaybookBudget) =>
      runs.admit({ runId, playbook, target, budget, global, dryRun: false, nowMs });

    assert.equal(kindOf(await admit('run-1', 'cache-a', t0)), 'admitted');
    assert.equal(kindOf(await admit('run-2', 'cache-b', t0 + minute)), 'admitted');
    assert.equal(kindOf(await admit('run-3', 'cache-a', t0 + 2 * minute)), 'admitted', 'cache-a is already in the window');
    assert.equal(kindOf(await admit('run-4', 'cache-b', t0 + 2 * minute, 'restart')), 'admitted', 'so is cache-b, whichever playbook acts');
    const refused = await admit('run-5', 'cache-c', t0 + 3 * minute, 'failover', { cooldownMs: 0, maxRuns: 1, windowMs: 2 * hour });
    assert.ok(!refused.admitted && refused.kind === 'blast-radius', JSON.stringify(refused));
    assert.equal(refused.targetsInWindow, 2);
    assert.match(refused.reason, /blast radius/);
    assert.match(refused.reason, /limit 2/);
    assert.equal(
      kindOf(await admit('run-6', 'cache-d', t0 + 3 * minute, 'restart')),
      'blast-radius',
      'the limit is fleet-wide, not per playbook',
    );

    // cache-b was last acted on at t0+2min, cache-a at t0+2min: both leave the window an hour later.
    assert.equal(
      kindOf(await admit('run-5', 'cache-c', t0 + hour + minute, 'failover', { cooldownMs: 0, maxRuns: 1, windowMs: 2 * hour })),
      'blast-radius',
    );
    assert.equal(
      kindOf(await admit('run-5', 'cache-c', t0 + hour + 2 * minute, 'failover', { cooldownMs: 0, maxRuns: 1, windowMs: 2 * hour })),
      'admitted',
      "the window slid, and the refusals did not spend cache-c's maxRuns: 1",
    );
    assert.equal(kindOf(await admit('run-7', 'cache-d', t0 + hour + 2 * minute)), 'admitted');
    assert.equal(kindOf(await admit('run-8', 'cache-e', t0 + hour + 2 * minute)), 'blast-radius', 'cache-c and cache-d now fill it');
  });

  test('a refusal by the blast radius neither starts a cooldown nor records a target', async () => {
    const runs = budgets();
    const global: GlobalBudget = { maxConcurrentRuns: 0, maxTargets: 1, targetsWindowMs: hour };
    const budget: PlaybookBudget = { cooldownMs: hour, maxRuns: 0, windowMs: 0 };
    const t0 = Date.now();
    assert.equal(
      kindOf(await runs.admit({ runId: 'run-1', playbook: 'p', target: 'a', budget, global, dryRun: false, nowMs: t0 })),
      'admitted',
    );
    assert.equal(
      kindOf(await runs.admit({ runId: 'run-2', playbook: 'p', target: 'b', budget, global, dryRun: false, nowMs: t0 })),
      'blast-radius',
    );
    // Once `a` left the window, `b` is admitted: its refused run did not start a cooldown on it.
    assert.equal(
      kindOf(await runs.admit({ runId: 'run-3', playbook: 'p', target: 'b', budget, global, dryRun: false, nowMs: t0 + hour })),
      'admitted',
    );
  });

  test('dry runs keep their own counters: they decide as a live run would without spending its budget', async () => {
    const runs = budgets();
    const budget: PlaybookBudget = { cooldownMs: hour, maxRuns: 1, windowMs: hour };
    const global: GlobalBudget = { maxConcurrentRuns: 0, maxTargets: 1, targetsWindowMs: hour };
    const t0 = Date.now();
    const admit = (runId: string, target: string, dryRun: boolean, nowMs = t0) =>
      runs.admit({ runId, playbook: 'failover', target, budget, global, dryRun, nowMs });

    assert.equal(kindOf(await admit('dry-1', 'cache-a', true)), 'admitted');
    await runs.finished({ playbook: 'failover', target: 'cache-a', budget, dryRun: true, nowMs: t0 });
    assert.equal(kindOf(await admit('dry-2', 'cache-a', true, t0 + minute)), 'cooldown', 'a dry run is refused as a live one would be');
    assert.equal(kindOf(await admit('dry-3', 'cache-b', true)), 'blast-radius');

    assert.equal(
      kindOf(await admit('live-1', 'cache-a', false, t0 + minute)),
      'admitted',
      'the dry runs spent none of the live cooldown, maxRuns or blast radius',
    );
    assert.equal(
      kindOf(await admit('live-2', 'cache-b', false, t0 + minute)),
      'blast-radius',
      'the live blast radius counts live targets (cache-a)',
    );

    const other = budgets();
    const admitOther = (runId: string, dryRun: boolean, nowMs: number) =>
      other.admit({ runId, playbook: 'failover', target: 'cache-a', budget, global, dryRun, nowMs });
    assert.equal(kindOf(await admitOther('live-1', false, t0)), 'admitted');
    await other.finished({ playbook: 'failover', target: 'cache-a', budget, dryRun: false, nowMs: t0 });
    assert.equal(kindOf(await admitOther('dry-1', true, t0 + minute)), 'admitted', 'and a live run spends nothing of the dry budget');
    assert.equal(kindOf(await admitOther('live-2', false, t0 + minute)), 'cooldown');
  });

  test("concurrency slots: up to max are taken, more are refused, a release frees one, a dead holder's slot frees itself", async () => {
    const runs = budgets();
    assert.equal(await runs.acquireSlot('run-1', 3, hour), true);
    assert.equal(await runs.acquireSlot('run-2', 3, hour), true);
    assert.equal(await runs.acquireSlot('run-3', 3, hour), true);
    assert.equal(await runs.acquireSlot('run-4', 3, hour), false);
    assert.equal(await runs.acquireSlot('run-1', 3, hour), true, 'a holder renews its own slot');
    assert.equal(await runs.activeSlots(), 3);

    await runs.releaseSlot('run-2');
    assert.equal(await runs.activeSlots(), 2);
    assert.equal(await runs.acquireSlot('run-4', 3, hour), true);
    assert.equal(await runs.acquireSlot('run-5', 3, hour), false);

    const dying = budgets();
    assert.equal(await dying.acquireSlot('crashed', 1, 300), true);
    assert.equal(await dying.acquireSlot('waiting', 1, 300), false);
    // The holder died: nobody renews its slot, which frees itself once its 300 ms are over.
    await waitFor("the dead holder's slot to expire", async () => (await dying.activeSlots()) === 0, 5000, 20);
    assert.equal(await dying.acquireSlot('waiting', 1, hour), true);
    assert.equal(await dying.acquireSlot('crashed', 1, hour), false, 'the dead holder does not get its slot back');
  });

  test('parallel admissions from several connections never overspend (atomicity)', async () => {
    const prefix = `test-${randomUUID()}`;
    // Five clients, as five replicas would have: the checks and the writes must be one atomic step in Redis.
    const replicas = Array.from({ length: 5 }, () => createRunBudgets(redis.client(), { prefix }));
    const replica = (index: number) => replicas[index % replicas.length] ?? assert.fail('no replica');
    const global: GlobalBudget = { maxConcurrentRuns: 0, maxTargets: 10, targetsWindowMs: hour };

    const decisions = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        replica(index).admit({
          runId: `run-${index}`,
          playbook: 'failover',
          target: `cache-${index}`,
          budget: undefined,
          global,
          dryRun: false,
        }),
      ),
    );
    assert.equal(decisions.filter((decision) => decision.admitted).length, 10);
    assert.deepEqual(new Set(decisions.map(kindOf)), new Set(['admitted', 'blast-radius']));

    const budget: PlaybookBudget = { cooldownMs: 0, maxRuns: 5, windowMs: hour };
    const sameTarget = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        replica(index).admit({ runId: `same-${index}`, playbook: 'failover', target: 'db', budget, global: noGlobal, dryRun: false }),
      ),
    );
    assert.equal(sameTarget.filter((decision) => decision.admitted).length, 5);
    assert.deepEqual(new Set(sameTarget.map(kindOf)), new Set(['admitted', 'max-runs']));

    const slots = await Promise.all(Array.from({ length: 40 }, (_, index) => replica(index).acquireSlot(`slot-${index}`, 4, hour)));
    assert.equal(slots.filter(Boolean).length, 4);
    assert.equal(await replica(0).activeSlots(), 4);
  });
});

describe('budgets in the run processor', () => {
  let redis: TestRedis;
  let dir: { path: string; remove: () => Promise<void> };
  before(async () => {
    redis = await startRedis();
    dir = await tempDir();
  });
  after(async () => {
    await dir.remove();
    await redis.stop();
  });

  /** Posts one alert and waits until its run completed. */
  async function runOnce(app: TestService, labels: Record<string, string>): Promise<Job<RunData>> {
    const response = await postWebhook(app.url, webhookBody([{ labels }]));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    const jobId = (response.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? assert.fail('no run');
    return waitFor(
      `run ${jobId} to complete`,
      async () => ((await app.service.queue.getJobState(jobId)) === 'completed' ? app.service.queue.getJob(jobId) : undefined),
      10_000,
    );
  }

  test('cooldown through the service: the second alert on a target is skipped, told, and counted', async () => {
    const app = await startTestService({
      redisUrl: redis.url,
      playbooks: {
        'cool.yaml': `
name: cool
match: '{alertname="Flapping"}'
target: '{{ labels.cluster }}'
budget: { cooldown: 1h }
steps:
  - name: act
    action: exec
    with: { command: [sh, -c, 'echo "$1" >> "$2"', sh, '{{ labels.instance }}', '${join(dir.path, 'cool')}'] }
skipped:
  steps:
    - name: tell
      action: log
      with: { message: 'cooldown skipped {{ run.target }}' }
`,
      },
    });
    try {
      const first = await runOnce(app, { alertname: 'Flapping', cluster: 'a', instance: 'a-1' });
      assert.equal(first.data.skip, undefined);
      const second = await runOnce(app, { alertname: 'Flapping', cluster: 'a', instance: 'a-2' });
      assert.equal(second.data.skip?.kind, 'cooldown');
      assert.match(second.data.skip.reason, /cooldown: cool last acted on a at /);
      assert.deepEqual(
        second.data.skipSteps.map(({ name, status }) => ({ name, status })),
        [{ name: 'tell', status: 'succeeded' }],
      );
      const other = await runOnce(app, { alertname: 'Flapping', cluster: 'b', instance: 'b-1' });
      assert.equal(other.data.skip, undefined, 'another target is not cooling down');
      assert.deepEqual(await lines(join(dir.path, 'cool')), ['a-1', 'b-1']);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      assert.match(metrics, /remediator_runs_skipped_total\{playbook="cool",reason="cooldown"\} 1\n/);
    } finally {
      await app.close();
    }
  });

  test('maxConcurrentRuns with concurrencyExceeded: wait: never more runs act at once, and every run acts', async () => {
    const log = join(dir.path, 'overlap');
    const app = await startTestService({
      redisUrl: redis.url,
      settings: { maxConcurrentRuns: 2, concurrencyExceeded: 'wait', concurrency: 6 },
      playbooks: {
        'slow.yaml': `
name: slow
match: '{alertname="Slow"}'
target: '{{ labels.cluster }}'
steps:
  - name: act
    action: exec
    with: { command: [sh, -c, 'echo start >> "$1"; sleep 0.5; echo end >> "$1"', sh, '${log}'] }
`,
      },
    });
    try {
      const response = await postWebhook(
        app.url,
        webhookBody(Array.from({ length: 6 }, (_, index) => ({ labels: { alertname: 'Slow', cluster: `c${index}` } }))),
      );
      assert.equal(response.status, 202);
      await waitFor('six runs to complete', async () => (await app.service.queue.getJobCounts('completed')).completed === 6, 20_000, 100);
      assert.equal(mostAtOnce(await lines(log)), 2, 'two runs acted at once, never three');
      assert.equal((await lines(log)).length, 12);
      assert.equal(
        await createRunBudgets(redis.client(), { prefix: `remediator:${app.queueName}` }).activeSlots(),
        0,
        'every slot was released',
      );
    } finally {
      await app.close();
    }
  });

  // Regression: the slot and the lease were renewed only once the guards had been evaluated, so a guard slower than
  // TARGET_LOCK_TTL_MS let both lapse and the run then failed with REM_LOCK_LOST although its guards passed.
  test("a guard slower than the lease ttl keeps the run's lease and slot", async () => {
    const log = join(dir.path, 'slow-guard');
    let queries = 0;
    const prometheus = createServer((_req, res) => {
      queries += 1;
      // Slower than the slot's ttl (3 s here), well within the Prometheus client's 10 s timeout.
      setTimeout(() => {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, '1'] }] } }));
      }, 4000);
    });
    await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
    const step = `
steps:
  - name: act
    action: exec
    with: { command: [sh, -c, 'echo start >> "$1"; sleep 1.5; echo end >> "$1"', sh, '${log}'] }
`;
    const app = await startTestService({
      redisUrl: redis.url,
      prometheusUrl: `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`,
      settings: { maxConcurrentRuns: 1, concurrencyExceeded: 'wait', targetLockTtlMs: 3000 },
      playbooks: {
        'guarded.yaml': `name: guarded\nmatch: '{alertname="Guarded"}'\ntarget: '{{ labels.cluster }}'\nretry: { attempts: 1 }\nguards:\n  - { name: healthy-elsewhere, query: 'vector(1)' }\n${step}`,
        'quick.yaml': `name: quick\nmatch: '{alertname="Quick"}'\ntarget: '{{ labels.cluster }}'\n${step}`,
      },
    });
    try {
      assert.equal((await postWebhook(app.url, webhookBody([{ labels: { alertname: 'Guarded', cluster: 'a' } }]))).status, 202);
      await waitFor('the guarded run to hold the slot and ask Prometheus', () => queries > 0, 5000);
      assert.equal((await postWebhook(app.url, webhookBody([{ labels: { alertname: 'Quick', cluster: 'b' } }]))).status, 202);
      await waitFor(
        'both runs to finish',
        async () => {
          const counts = await app.service.queue.getJobCounts('completed', 'failed');
          return (counts.completed ?? 0) + (counts.failed ?? 0) === 2;
        },
        20_000,
        100,
      );
      const failed = await app.service.queue.getJobs(['failed']);
      assert.deepEqual(
        failed.map((job) => job.failedReason),
        [],
        'the guarded run passed its guards and must not fail for its lease',
      );
      assert.equal(mostAtOnce(await lines(log)), 1, 'with maxConcurrentRuns: 1 two runs acted at the same time');
    } finally {
      await app.close();
      await new Promise<void>((resolve) => {
        prometheus.closeAllConnections();
        prometheus.close(() => {
          resolve();
        });
      });
    }
  });

  // Regression: in skip mode a retry of a run that had already acted was skipped, leaving half a failover done.
  test('with concurrencyExceeded: skip, a retry of a run that already acted finishes it instead of being skipped', async () => {
    const app = await startTestService({
      redisUrl: redis.url,
      settings: { maxConcurrentRuns: 1, concurrencyExceeded: 'skip' },
      playbooks: {
        'half.yaml': `
name: half
match: '{alertname="Half"}'
target: '{{ labels.cluster }}'
retry: { attempts: 3, backoff: 1500ms }
steps:
  - name: first
    action: exec
    with: { command: [sh, -c, 'echo first >> "$1"', sh, '${join(dir.path, 'half')}'] }
  - name: second
    action: exec
    with: { command: [sh, -c, 'test -e "$1" || { touch "$1"; exit 1; }', sh, '${join(dir.path, 'second-failed-once')}'] }
`,
        'busy.yaml': `
name: busy
match: '{alertname="Busy"}'
target: '{{ labels.cluster }}'
steps:
  - name: hold-the-slot
    action: exec
    with: { command: [sleep, '4'] }
`,
      },
    });
    try {
      const half = await postWebhook(app.url, webhookBody([{ labels: { alertname: 'Half', cluster: 'a' } }]));
      const halfId = (half.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? assert.fail('no run');
      // The first attempt acted (step first) and failed transiently at step second: it waits 1.5 s for its retry.
      await waitFor(
        'the first attempt to fail at step second',
        async () => (await app.service.queue.getJob(halfId))?.data.steps[1]?.status === 'failed',
        10_000,
      );
      // Meanwhile another run takes the only slot.
      const busy = await postWebhook(app.url, webhookBody([{ labels: { alertname: 'Busy', cluster: 'b' } }]));
      const busyId = (busy.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? assert.fail('no run');
      await waitFor('the busy run to act', async () => (await app.service.queue.getJob(busyId))?.data.steps[0]?.status === 'running', 5000);

      const settled = await waitFor(
        'the half-done run to settle',
        async () => {
          const state = await app.service.queue.getJobState(halfId);
          return state === 'completed' || state === 'failed' ? app.service.queue.getJob(halfId) : undefined;
        },
        20_000,
        100,
      );
      // It acted already (step first ran and was admitted by the budgets): skipping now would leave half a failover.
      assert.equal(settled.data.skip, undefined, `a run that already acted was skipped: ${JSON.stringify(settled.data.skip)}`);
      assert.deepEqual(
        settled.data.steps.map(({ name, status }) => ({ name, status })),
        [
          { name: 'first', status: 'succeeded' },
          { name: 'second', status: 'succeeded' },
        ],
      );
    } finally {
      await app.close();
    }
  });
});
