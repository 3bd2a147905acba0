import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { stringify } from 'yaml';
import type { RunData } from '../../src/core/run-data.js';
import { parseMetrics, series } from '../exporters/metrics-text.js';
import { replication } from '../helpers/redis-failover.js';
import { startRemediatorProcess, type RemediatorProcess } from '../helpers/remediator-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { startCacheCluster, type CacheCluster } from '../reconcile/redis-cluster.js';

const adminPassword = 'drill-admin-pw';
const adminAuth = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;
const drill = { drill: 'cache-often', cluster: 'cache', kind: 'switchover' };

/** The remediator_drill_* samples of one scrape (the rest of the exposition is not this test's concern). */
async function drillMetrics(url: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return parseMetrics(
    text
      .split('\n')
      .filter((line) => line.startsWith('remediator_drill_'))
      .join('\n'),
  );
}
const metric = (samples: ReturnType<typeof parseMetrics>, name: string, labels: Record<string, string> = {}) =>
  series(samples, name, { ...drill, ...labels })[0]?.value;

describe('a switchover drill scheduled every few seconds, on a real Redis cluster and a real remediator serve', () => {
  let cluster: CacheCluster;
  let remediator: RemediatorProcess;
  let dir: { path: string; remove: () => Promise<void> };
  let queue: Queue<RunData>;
  const queueName = `drills-${randomUUID()}`;

  before(async () => {
    cluster = await startCacheCluster();
    dir = await tempDir('remediator-drills-');
    const members = [...(cluster.inventory.clusters.get('cache')?.members ?? [])];
    await writeFile(
      join(dir.path, 'inventory.yaml'),
      stringify({
        clusters: { cache: { kind: 'redis', members: members.map(({ name, address, priority }) => ({ name, address, priority })) } },
      }),
    );
    // Every 5 seconds (6 fields: seconds first), 3 seconds to start; a pass every 250 ms lands in every window.
    await writeFile(
      join(dir.path, 'drills.yaml'),
      "drills:\n  - { name: cache-often, cluster: cache, schedule: '*/5 * * * * *', kind: switchover, window: 3s, period: 1m }\n",
    );
    await writeFile(
      join(dir.path, 'note.yaml'),
      'name: note\nmatch: \'{alertname="Note"}\'\nsteps: [{ name: note, action: log, with: { message: note } }]\n',
    );
    remediator = await startRemediatorProcess({
      REDIS_URL: cluster.queue.url,
      QUEUE_NAME: queueName,
      REMEDIATIONS_DIR: dir.path,
      ADMIN_PASSWORD: adminPassword,
      RECONCILE_INTERVAL: '250ms',
      RECONCILE_LEASE_TTL: '3s',
    });
    queue = new Queue<RunData>(queueName, { connection: cluster.queue.client() });
  });

  after(async () => {
    await queue.close();
    await remediator.stop();
    await cluster.stop();
    await dir.remove();
  });

  const drillRuns = async () =>
    (await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'])).filter(
      (job) => job.data.playbook === 'remediator-switchover-redis',
    );
  const primaries = async () => {
    const roles = await Promise.all(
      [cluster.a, cluster.b, cluster.c].map(async (member) => (await replication(member.client())).get('role')),
    );
    return ['cache-a', 'cache-b', 'cache-c'].filter((_name, index) => roles[index] === 'master');
  };

  test('the drill runs as a recorded run with source drill, its RTO in the run output, and the metrics show its last success and RTO', async (t) => {
    // The first occurrence: the drill may have run before this test began (the schedule does not wait for it).
    const run = await waitFor(
      'the first drill run to finish',
      async () => {
        const [first] = (await drillRuns()).sort((x, y) => Date.parse(x.data.alert.startsAt) - Date.parse(y.data.alert.startsAt));
        return first?.finishedOn === undefined ? undefined : first;
      },
      { timeoutMs: 30_000, intervalMs: 200, processes: [remediator] },
    );
    assert.equal(await run.getState(), 'completed', JSON.stringify(run.data.steps));
    assert.equal(run.data.source, 'drill');
    assert.equal(run.data.startedBy, 'drill:cache-often');
    assert.deepEqual(
      [run.data.alert.labels.alertname, run.data.alert.labels.drill, run.data.alert.labels.mode],
      ['RemediatorSwitchover', 'cache-often', 'planned'],
    );
    const view = (await (
      await fetch(`${remediator.url}/api/runs/${encodeURIComponent(run.id ?? '')}`, { headers: { authorization: adminAuth } })
    ).json()) as {
      source?: string;
      steps: { name: string; status: string; output?: { writePauseMs?: number; from?: string; to?: string } }[];
    };
    assert.equal(view.source, 'drill', 'the API shows where the run came from');
    const [step] = view.steps;
    assert.ok(step);
    assert.equal(step.status, 'succeeded');
    const writePauseMs = step.output?.writePauseMs;
    assert.equal(typeof writePauseMs, 'number', JSON.stringify(step.output));
    t.diagnostic(`drill switchover ${step.output?.from ?? '?'} → ${step.output?.to ?? '?'}: write pause ${writePauseMs ?? '?'} ms`);
    assert.deepEqual([step.output?.from, step.output?.to], ['cache-a', 'cache-b'], 'from the first primary to the preferred replica');
    assert.equal((await primaries()).length, 1, 'one primary, whatever drill ran since');

    const samples = await waitFor(
      'the metrics to show the success',
      async () => {
        const read = await drillMetrics(remediator.url);
        return (metric(read, 'remediator_drill_runs_total', { outcome: 'succeeded' }) ?? 0) >= 1 ? read : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    const lastSuccess = metric(samples, 'remediator_drill_last_success_timestamp_seconds') ?? 0;
    assert.ok(lastSuccess * 1000 >= (run.processedOn ?? 0), `last success ${lastSuccess} is the run's end, not the first schedule`);
    const rto = metric(samples, 'remediator_drill_rto_seconds');
    assert.ok(rto !== undefined && rto >= 0 && rto < 60, `RTO ${rto ?? '?'} s`);
    assert.equal(metric(samples, 'remediator_drill_last_outcome', { outcome: 'succeeded' }), 1);
    assert.equal(metric(samples, 'remediator_drill_period_seconds'), 60);
  });

  test('with a hold on the cluster the drill refuses to run: no switchover, the primary stays, the refusal is logged and the occurrence counted as missed', async () => {
    const answer = await fetch(`${remediator.url}/api/holds`, {
      method: 'POST',
      headers: { authorization: adminAuth, 'content-type': 'application/json' },
      body: JSON.stringify({ target: 'cache', ttl: '10m', reason: 'patching the kernel' }),
    });
    assert.equal(answer.status, 201, await answer.text());
    // A run enqueued just before the hold is skipped by the runner's hold gate; wait for every drill run to end.
    await waitFor('no drill run in flight', async () => (await drillRuns()).every((job) => job.finishedOn !== undefined), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    const runsBefore = (await drillRuns()).length;
    const primary = await primaries();
    assert.equal(primary.length, 1, `one primary: ${primary.join(', ')}`);
    const missedBefore = metric(await drillMetrics(remediator.url), 'remediator_drill_runs_total', { outcome: 'missed' }) ?? 0;
    // Two whole windows refused after the hold was in place.
    await waitFor(
      'two occurrences missed',
      async () =>
        (metric(await drillMetrics(remediator.url), 'remediator_drill_runs_total', { outcome: 'missed' }) ?? 0) >= missedBefore + 2,
      { timeoutMs: 30_000, intervalMs: 250, processes: [remediator] },
    );
    assert.equal((await drillRuns()).length, runsBefore, 'no drill run while the cluster is held');
    assert.deepEqual(await primaries(), primary, 'the primary stays the same');
    assert.equal(metric(await drillMetrics(remediator.url), 'remediator_drill_last_outcome', { outcome: 'missed' }), 1);
    const output = remediator.output();
    assert.match(output, /drill refused: cluster cache is held until [^ ]+ by admin: patching the kernel/);
    assert.match(output, /drill missed: it could not start within its window/);
  });
});
