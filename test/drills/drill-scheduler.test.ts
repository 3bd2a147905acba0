import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createAlertIntake, type AlertIntake } from '../../src/alerts/alert-intake.js';
import type { ActionRegistry } from '../../src/core/action-registry.js';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import type { Playbook } from '../../src/core/playbook.js';
import type { RunData } from '../../src/core/run-data.js';
import { createDrillScheduler, unseenReason, type DrillScheduler } from '../../src/drills/drill-scheduler.js';
import { createDrillBlockers } from '../../src/drills/drill-blockers.js';
import { createDrillState, drillMetricsSource, type DrillState } from '../../src/drills/drill-state.js';
import { openAlertsFromNotes } from '../../src/drills/open-alerts.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createMetrics } from '../../src/metrics/create-metrics.js';
import { parsePlaybookSources } from '../../src/playbooks/load-playbooks.js';
import { createRemediationQueue } from '../../src/queue/remediation-queue.js';
import { createRunInserter } from '../../src/queue/run-inserter.js';
import { createFailbackState } from '../../src/state/failback-state.js';
import { createTargetHolds, type TargetHolds } from '../../src/state/target-holds.js';
import type { Queue } from 'bullmq';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { weeklyCacheDrill } from './drill-fixture.js';

// A stand-in with the built-in playbook's name and match (the real one acts through redis.switchover); the
// scheduler's part ends at the queue, so no worker runs it here.
const switchoverStandIn = `name: remediator-switchover-redis
match: '{alertname="RemediatorSwitchover", service="redis"}'
target: '{{ labels.cluster }}'
steps:
  - { name: switchover, action: log, with: { message: 'switchover {{ labels.cluster }}' } }
`;
// A failback playbook: its firings are noted, which is how an open alert is seen without an Alertmanager.
const failbackPlaybook = `name: cache-failover
match: '{alertname="PrimaryUnreachable"}'
target: '{{ labels.cluster }}'
steps:
  - { name: note, action: log, with: { message: down } }
resolved:
  steps:
    - { name: back, action: log, with: { message: back } }
`;

const drill = weeklyCacheDrill;
const scheduledAt = Date.parse('2026-12-01T03:00:00Z');
const hour = 3_600_000;

function loadPlaybooks(actions: ActionRegistry): Playbook[] {
  const loaded = parsePlaybookSources(
    [
      { file: 'switchover.yaml', text: switchoverStandIn },
      { file: 'failover.yaml', text: failbackPlaybook },
    ],
    actions,
  );
  assert.ok(loaded.success);
  return loaded.playbooks;
}

describe('the drill scheduler on a real Redis and queue', () => {
  let redis: TestRedis;
  let client: Redis;
  let queue: Queue<RunData>;
  const queues: Queue<RunData>[] = [];
  let intake: AlertIntake;
  let state: DrillState;
  let holds: TargetHolds;
  let prefix: string;
  let logs: Record<string, unknown>[];
  let clock: number;

  before(async () => {
    redis = await startRedis();
    client = redis.client();
  });
  after(async () => {
    for (const each of queues) await each.close();
    await redis.stop();
  });
  beforeEach(() => {
    const name = `test-${randomUUID()}`;
    prefix = `remediator:${name}`;
    queue = createRemediationQueue({ name, connection: client });
    queues.push(queue);
    const playbooks = loadPlaybooks(
      createDefaultActions({ smtpUrl: undefined, smtpFrom: 'r@localhost', prometheusUrl: undefined, path: undefined }),
    );
    intake = createAlertIntake({
      playbooks,
      queue,
      inserter: createRunInserter(client, queue),
      failback: createFailbackState(client, { prefix, retentionMs: 86_400_000 }),
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics({ registry: new Registry(), defaultMetrics: false }),
      retentionMs: 86_400_000,
      dryRun: false,
      timeoutMs: 5000,
      valueLimits: { labelBytes: 1024, annotationBytes: 4096, alertBytes: 65_536 },
      redelivery: { keyPrefix: prefix, windowMs: 60_000 },
    });
    state = createDrillState(client, prefix);
    holds = createTargetHolds(client, `${prefix}:hold`);
    logs = [];
    clock = scheduledAt - hour;
  });

  /** A scheduler as one remediator process would have it, on the shared Redis and queue, reading the fake clock. */
  function scheduler(): DrillScheduler {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
        callback();
      },
    });
    return createDrillScheduler({
      drills: [drill],
      state,
      blockers: createDrillBlockers({
        playbooks: new Set(['remediator-switchover-redis']),
        isPaused: () => queue.isPaused(),
        holds,
        isActing: async (target) => (await client.exists(`${prefix}:lock:${target}`)) === 1,
      }),
      intake,
      alertsFromNotes: () => openAlertsFromNotes({ redis: client, queue, prefix }),
      logger: createLogger({ level: 'info', destination }),
      now: () => clock,
    });
  }
  const noAlerts = { alertmanager: { complete: true, active: [] } };
  const drillRuns = async () =>
    (await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'])).filter(
      (job) => job.data.playbook === 'remediator-switchover-redis',
    );
  const record = async () => (await state.read([drill], clock)).get(drill.name);

  test('an occurrence starts once, as a recorded run with source drill, whichever of two processes sees it and however often', async () => {
    const [one, two] = [scheduler(), scheduler()];
    await one.sweep(noAlerts); // before the first occurrence's window: nothing to do
    assert.equal((await drillRuns()).length, 0);
    clock = scheduledAt + 1000;
    await Promise.all([one.sweep(noAlerts), two.sweep(noAlerts)]);
    await one.sweep(noAlerts);
    const runs = await drillRuns();
    assert.equal(runs.length, 1);
    const [run] = runs;
    assert.equal(run?.data.source, 'drill');
    assert.equal(run.data.startedBy, 'drill:cache-weekly');
    assert.equal(run.data.target, 'cache');
    assert.deepEqual(run.data.alert.labels, {
      alertname: 'RemediatorSwitchover',
      cluster: 'cache',
      service: 'redis',
      mode: 'planned',
      drill: 'cache-weekly',
    });
    assert.equal(run.data.alert.startsAt, '2026-12-01T03:00:00.000Z', 'the scheduled time');
    assert.deepEqual(await state.occurrence(drill.name, scheduledAt), { state: 'started', runId: run.id });
    clock = scheduledAt + 2 * hour; // the window closed: a started occurrence is not missed
    await two.sweep(noAlerts);
    assert.equal((await record())?.runs.missed, 0);
    assert.equal((await drillRuns()).length, 1);
  });

  test('a hold on the cluster refuses the drill (logged with its reason); held its whole window, the occurrence is missed once, with that reason', async () => {
    const sweeper = scheduler();
    await holds.hold('cache', 3 * hour, 'kernel patch', 'admin');
    clock = scheduledAt;
    await sweeper.sweep(noAlerts);
    clock = scheduledAt + 30_000;
    await sweeper.sweep(noAlerts);
    clock = scheduledAt + 30 * 60_000;
    await sweeper.sweep(noAlerts);
    assert.equal((await drillRuns()).length, 0);
    const refusals = logs.filter((line) => line.msg === `drill refused: ${String(line.reason)}`);
    assert.deepEqual(
      refusals.map((line) => line.suppressed),
      [0, 1],
      'the same refusal is logged once a minute at most, with the count of those held back',
    );
    assert.match(String(refusals[0]?.reason), /^cluster cache is held until .* by admin: kernel patch$/);
    clock = scheduledAt + hour + 1000;
    await sweeper.sweep(noAlerts);
    await sweeper.sweep(noAlerts);
    const after = await record();
    assert.equal(after?.runs.missed, 1);
    assert.equal(after.lastOutcome, 'missed');
    assert.match(after.lastReason ?? '', /^cluster cache is held until .* by admin: kernel patch$/);
    assert.equal(logs.filter((line) => line.msg === 'drill missed: it could not start within its window').length, 1);
    assert.equal((await drillRuns()).length, 0, 'no run: the primary is never touched');
  });

  test('remediation paused, or an alert open on the cluster (in Alertmanager or in the firing notes), keeps the drill waiting; it starts once clear within its window', async () => {
    const sweeper = scheduler();
    clock = scheduledAt + 1000;
    await queue.pause();
    await sweeper.sweep(noAlerts);
    await queue.resume();
    await sweeper.sweep({ alertmanager: { complete: true, active: [{ alertname: 'ReplicationBroken', cluster: 'cache' }] } });
    // No Alertmanager: the firing of a failback playbook is noted, and open until its resolution is queued.
    const firing = { status: 'firing' as const, labels: { alertname: 'PrimaryUnreachable', cluster: 'cache' }, annotations: {} };
    const startsAt = new Date(scheduledAt - 60_000).toISOString();
    const envelope = { receiver: 'am', groupLabels: {}, commonLabels: {}, commonAnnotations: {} };
    await intake.accept({ ...envelope, status: 'firing', alerts: [{ ...firing, startsAt }] });
    await sweeper.sweep({ alertmanager: undefined });
    assert.equal((await drillRuns()).length, 0);
    assert.deepEqual(
      logs.filter((line) => String(line.msg).startsWith('drill refused')).map((line) => line.reason),
      ['remediation is paused', 'alert ReplicationBroken is open on cluster cache', 'alert PrimaryUnreachable is open on cluster cache'],
    );
    await intake.accept({ ...envelope, status: 'resolved', alerts: [{ ...firing, status: 'resolved', startsAt, endsAt: startsAt }] });
    clock = scheduledAt + 10 * 60_000;
    await sweeper.sweep({ alertmanager: undefined });
    assert.equal((await drillRuns()).length, 1, 'started within its window once nothing stood in its way');
  });

  test('an occurrence whose window ended before the drill was first scheduled is not counted as missed', async () => {
    clock = scheduledAt + 2 * hour; // the drill is configured after the window of 03:00 ended
    await scheduler().sweep(noAlerts);
    const first = await record();
    assert.equal(first?.runs.missed, 0);
    assert.equal(first.firstScheduledAt, clock);
    // A week later nobody ran a pass during the next occurrence's window (remediator was down): that one is missed.
    clock = scheduledAt + 7 * 24 * hour + 2 * hour;
    await scheduler().sweep(noAlerts);
    const later = await record();
    assert.equal(later?.runs.missed, 1);
    assert.equal(later.lastReason, unseenReason);
  });

  test('the metrics read the record from Redis: before any success, the last success is when the drill was first scheduled', async () => {
    clock = scheduledAt + 2 * hour;
    await scheduler().sweep(noAlerts);
    const registry = new Registry();
    createMetrics({ registry, defaultMetrics: false, drills: drillMetricsSource([drill], state, () => clock) });
    const text = await registry.metrics();
    const labels = 'drill="cache-weekly",cluster="cache",kind="switchover"';
    assert.ok(text.includes(`remediator_drill_last_success_timestamp_seconds{${labels}} ${(scheduledAt + 2 * hour) / 1000}`), text);
    assert.ok(text.includes(`remediator_drill_period_seconds{${labels}} ${14 * 86_400}`));
    assert.ok(text.includes(`remediator_drill_runs_total{${labels},outcome="missed"} 0`));
    // prom-client writes NaN as Nan (Prometheus parses either).
    assert.ok(text.toLowerCase().includes(`remediator_drill_rto_seconds{${labels}} nan`), 'no RTO before a successful drill');
    assert.ok(text.includes(`remediator_drill_last_run_timestamp_seconds{${labels}} 0`), 'no run yet');
    await state.recordRun(drill.name, { runId: 'r1', outcome: 'succeeded', at: scheduledAt + 3 * hour, rtoMs: 250 });
    assert.equal(await state.recordRun(drill.name, { runId: 'r1', outcome: 'succeeded', at: scheduledAt + 3 * hour, rtoMs: 250 }), false);
    // A new registry: the one above shares its read of Redis for a second (one read per scrape).
    const fresh = new Registry();
    createMetrics({ registry: fresh, defaultMetrics: false, drills: drillMetricsSource([drill], state, () => clock) });
    const later = await fresh.metrics();
    assert.ok(later.includes(`remediator_drill_rto_seconds{${labels}} 0.25`), later);
    assert.ok(later.includes(`remediator_drill_last_success_timestamp_seconds{${labels}} ${(scheduledAt + 3 * hour) / 1000}`));
    assert.ok(later.includes(`remediator_drill_runs_total{${labels},outcome="succeeded"} 1`), 'the same run recorded twice counts once');
    assert.ok(later.includes(`remediator_drill_last_outcome{${labels},outcome="succeeded"} 1`));
  });
});
