import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import type { RunResult } from '../../src/runner/run-processor.js';
import type { RunData } from '../../src/core/run-data.js';
import { lines } from '../helpers/lines.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitForIdleQueue } from '../helpers/queue-idle.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody, type AlertSpec } from '../helpers/webhook.js';

const clusters = 200;
const alertsPerCluster = 5;
const alertCount = clusters * alertsPerCluster; // 1,000
const alertsPerBody = 50;
const deliveriesPerBody = 5;
const maxTargets = 50;
const postConcurrency = 8;
const startsAt = '2026-11-22T03:00:00.000Z';

/** A deterministic shuffle (mulberry32), so a failure can be replayed with the seed it prints. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other] as T, copy[index] as T];
  }
  return copy;
}

/** Runs `tasks` with at most `limit` in flight. */
async function bounded<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const index = next;
        next += 1;
        const task = tasks[index];
        if (task) results[index] = await task();
      }
    }),
  );
  return results;
}

/** The value of one sample in a Prometheus text exposition; 0 when absent. */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('an alert storm on two replicas with a fleet-wide blast radius', () => {
  let redis: TestRedis;
  let replicas: TestService[] = [];
  let dir: { path: string; remove: () => Promise<void> };
  const effects = () => join(dir.path, 'effects');

  before(async () => {
    redis = await startRedis();
    dir = await tempDir();
    const playbooks = {
      'storm.yaml': `
name: storm
match: '{alertname="InstanceDown"}'
target: '{{ labels.cluster }}'
steps:
  - name: act
    action: exec
    with: { command: [sh, -c, 'echo "$1 $2" >> "$3"', sh, '{{ run.id }}', '{{ labels.cluster }}', '${effects()}'] }
skipped:
  steps:
    - name: notify
      action: log
      with: { message: 'not acting on {{ run.target }}', level: warn }
`,
    };
    const settings = { concurrency: 8, maxTargets, targetsWindowMs: 3_600_000 };
    const first = await startTestService({ redisUrl: redis.url, playbooks, settings });
    replicas = [first];
    replicas.push(await startTestService({ redisUrl: redis.url, playbooks, settings: { ...settings, queueName: first.queueName } }));
  });

  after(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await dir.remove();
    await redis.stop();
  });

  test('1,000 alerts × 5 deliveries: one job per alert, every job finishes, exactly 50 targets acted on', async (t) => {
    const seed = Date.now() % 1_000_000;
    t.diagnostic(`shuffle seed ${seed}`);
    const alerts: AlertSpec[] = [];
    for (let cluster = 0; cluster < clusters; cluster += 1) {
      for (let node = 0; node < alertsPerCluster; node += 1) {
        const name = `c${String(cluster).padStart(3, '0')}`;
        alerts.push({
          labels: { alertname: 'InstanceDown', cluster: name, instance: `${name}-node-${node}:9100`, service: 'cache' },
          fingerprint: createHash('sha256').update(`${name}/${node}`).digest('hex').slice(0, 16),
          startsAt,
        });
      }
    }
    const shuffled = shuffle(alerts, seed);
    const bodies = Array.from({ length: alertCount / alertsPerBody }, (_, index) =>
      webhookBody(shuffled.slice(index * alertsPerBody, (index + 1) * alertsPerBody)),
    );
    const deliveries = shuffle(
      bodies.flatMap((body) => Array.from({ length: deliveriesPerBody }, () => body)),
      seed + 1,
    );

    const started = Date.now();
    const answers = await bounded(
      deliveries.map((body, index) => () => postWebhook((replicas[index % replicas.length] ?? assert.fail('no replica')).url, body)),
      postConcurrency,
    );
    const acceptedSeconds = (Date.now() - started) / 1000;
    assert.deepEqual(
      [...new Set(answers.map((answer) => answer.status))],
      [202],
      JSON.stringify(answers.find((answer) => answer.status !== 202)),
    );
    // A verbatim redelivery of a body already accepted is answered { redelivered: true } without its runs.
    const jobIds = new Set(
      answers.flatMap((answer) => (answer.body as { runs?: { jobId: string }[] }).runs?.map((run) => run.jobId) ?? []),
    );
    const redelivered = answers.filter((answer) => (answer.body as { redelivered?: boolean }).redelivered === true).length;
    // Identical bytes racing each other included: Redis accepts a body once, every other copy is a redelivery.
    assert.equal(answers.length - redelivered, bodies.length, `${redelivered} of ${answers.length} answers were redeliveries`);
    assert.equal(jobIds.size, alertCount, 'one job id per (alert, startsAt), the same from either replica');

    const queue = replicas[0]?.service.queue ?? assert.fail('no queue');
    const counts = () => queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
    await waitFor(
      'every run to finish',
      async () => {
        const now = await counts();
        return (now.completed ?? 0) + (now.failed ?? 0) >= alertCount;
      },
      80_000,
      200,
    );
    const drainSeconds = (Date.now() - started) / 1000;
    // Every delivery was answered 202, so every job is queued: a duplicate job or a run parked twice has ended once none is left.
    await waitForIdleQueue(queue);
    assert.deepEqual(await counts(), { waiting: 0, active: 0, delayed: 0, prioritized: 0, completed: alertCount, failed: 0 });

    const jobs = (await queue.getJobs(['completed'], 0, alertCount)) as Job<RunData, RunResult>[];
    assert.equal(jobs.length, alertCount);
    assert.deepEqual(new Set(jobs.map((job) => job.id)), jobIds, 'the finished jobs are exactly the accepted ones');
    const acted = jobs.filter((job) => job.data.skip === undefined);
    const skipped = jobs.filter((job) => job.data.skip !== undefined);
    const actedTargets = new Set(acted.map((job) => job.data.target));
    const skippedTargets = new Set(skipped.map((job) => job.data.target));

    assert.equal(actedTargets.size, maxTargets, 'the blast radius: exactly maxTargets distinct targets acted on');
    assert.equal(
      acted.length,
      maxTargets * alertsPerCluster,
      'every alert on an admitted target acted (its target was already in the window)',
    );
    assert.equal(skippedTargets.size, clusters - maxTargets);
    assert.deepEqual(
      [...skippedTargets].filter((target) => actedTargets.has(target)),
      [],
      'no target was both acted on and refused',
    );
    for (const job of acted) {
      assert.deepEqual(job.returnvalue.steps, [{ name: 'act', status: 'succeeded' }], job.id);
      assert.ok(job.data.admittedAt, `${job.id ?? ''} records its admission`);
    }
    for (const job of skipped) {
      assert.equal(job.data.skip?.kind, 'blast-radius', job.id);
      assert.match(job.data.skip.reason, /blast radius: 50 distinct targets were already acted on .*\(limit 50\)/);
      assert.equal(job.returnvalue.skipKind, 'blast-radius');
      assert.deepEqual(job.data.steps, [], `${job.id ?? ''} ran none of its steps`);
      assert.deepEqual(
        job.data.skipSteps.map(({ name, status }) => ({ name, status })),
        [{ name: 'notify', status: 'succeeded' }],
        job.id,
      );
    }

    // Side effects: one line per acted run, each run exactly once, none from a skipped run.
    const effectLines = await lines(effects());
    assert.equal(effectLines.length, acted.length);
    const effectRuns = effectLines.map((line) => line.split(' ')[0]);
    assert.equal(new Set(effectRuns).size, effectLines.length, 'no run acted twice');
    assert.deepEqual(new Set(effectRuns), new Set(acted.map((job) => job.id)));
    assert.deepEqual(new Set(effectLines.map((line) => line.split(' ')[1])), actedTargets);

    // Metrics, as Prometheus would scrape them from each replica.
    const scrapes = await Promise.all(replicas.map(async (replica) => (await fetch(`${replica.url}/metrics`)).text()));
    const skippedPerReplica = scrapes.map((text) =>
      sample(text, 'remediator_runs_skipped_total', 'playbook="storm",reason="blast-radius"'),
    );
    const succeededPerReplica = scrapes.map((text) => sample(text, 'remediator_runs_total', 'playbook="storm",outcome="succeeded"'));
    assert.equal(
      skippedPerReplica.reduce((sum, value) => sum + value, 0),
      skipped.length,
    );
    assert.equal(
      succeededPerReplica.reduce((sum, value) => sum + value, 0),
      acted.length,
    );
    assert.ok(
      skippedPerReplica.every((value, index) => value + (succeededPerReplica[index] ?? 0) > 0),
      'both replicas worked the storm',
    );

    const notifications = replicas
      .flatMap((replica) => replica.logs)
      .filter((log) => typeof log.msg === 'string' && log.msg.startsWith('not acting on '));
    assert.equal(notifications.length, skipped.length, 'one skipped: notification per skipped run');

    const figures = {
      alerts: alertCount,
      webhookPosts: deliveries.length,
      alertDeliveries: deliveries.length * alertsPerBody,
      jobs: jobs.length,
      acted: acted.length,
      actedTargets: actedTargets.size,
      skipped: skipped.length,
      skippedPerReplica,
      succeededPerReplica,
      acceptedSeconds,
      drainSeconds,
    };
    t.diagnostic(JSON.stringify(figures));
    console.log('alert storm:', figures);
  });
});
