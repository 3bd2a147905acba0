import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ActionRegistry } from '../../src/core/action-registry.js';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { createPrimaryRecord } from '../../src/state/primary-record.js';
import type { Inventory } from '../../src/inventory/inventory.js';
import { parseInventorySource } from '../../src/inventory/load-inventory.js';
import type { RunData } from '../../src/core/run-data.js';
import { freePort } from '../../src/util/free-port.js';
import { alertFingerprint } from '../helpers/alert-fingerprint.js';
import { startExporterProcess, type ExporterProcess } from '../helpers/exporter-process.js';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitForIdleQueue } from '../helpers/queue-idle.js';
import { fastClient, watchRoles, type RoleWatch } from '../helpers/redis-roles.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, primaryUnreachableLabels, webhookBody } from '../helpers/webhook.js';

const maxLagBytes = 1024 * 1024; // 1 MiB, the bound redis-primary-failover promotes within

/**
 * The replicas' lag as `remediator exporter` measured it while the cluster still had a live primary.
 *
 * Why not simply `remediator_replication_lag_bytes <= 1048576` at the moment the run starts: the exporter computes a
 * replica's lag in each scrape against the freshest member that answered that scrape. While the primary is alive
 * that is the primary, so the lag is real. Once the primary is dead, the replicas are compared only with one
 * another, and a lone replica only with itself: its lag reads 0 however far behind it was. PrimaryUnreachable is sent
 * after the primary died, so an instant query would always pass and promote exactly the replica it should refuse.
 *
 * Why not `max_over_time(...[2m])` either: it holds any burst of the last two minutes against a replica that has
 * since caught up. What matters is the lag at the last moment there was a primary to compare with. So: keep the
 * lag samples only at instants when the cluster had an up primary (`and on(cluster)`), and take the last of them
 * (`last_over_time` over a 1 s-resolution subquery, the scrape interval). When the primary dies its
 * `role="primary"` series goes stale at the next scrape, which is the same scrape in which the replicas' lag turns
 * to "compared with themselves", so the value kept is the last one measured against the primary.
 */
const lagAgainstLivePrimary =
  'last_over_time((remediator_replication_lag_bytes{cluster="{{ labels.cluster }}"} and on(cluster) (remediator_member_up{cluster="{{ labels.cluster }}", role="primary"} == 1))[2m:1s])';

/**
 * The failover playbook with two guards:
 * - lag-measured: a replica's lag was measured against a live primary in the last 2 minutes. Without it the
 *   second guard would pass on no data at all (expect: false on an empty result), failing open.
 * - best-replica-within-lag: the best replica (least lag, `bottomk(1, …)`) was within 1 MiB. Written as "the best
 *   one is past the bound" with expect: false, so that when it fails, the result in the reason is the replica and
 *   its lag rather than an empty list. One replica within the bound is enough: redis.failover promotes the
 *   freshest reachable replica and never one more than maxLagBytes behind it.
 */
function playbook(onError: 'skip' | 'proceed' | undefined): string {
  const onErrorLine = onError === undefined ? '' : `\n    onError: ${onError}`;
  return `
name: redis-primary-failover
match: '{alertname="PrimaryUnreachable", service="redis"}'
on: firing
target: '{{ labels.cluster }}'
retry: { attempts: 5, backoff: 2s }
guards:
  - name: lag-measured
    query: '${lagAgainstLivePrimary}'${onErrorLine}
  - name: best-replica-within-lag
    query: 'bottomk(1, ${lagAgainstLivePrimary}) > ${maxLagBytes}'
    expect: 'false'${onErrorLine}
steps:
  - name: promote
    action: redis.failover
    timeout: 60s
    with: { cluster: '{{ labels.cluster }}', maxLagBytes: ${maxLagBytes}, maxStaleness: 10s }
skipped:
  steps:
    - name: tell-on-call
      action: log
      with: { message: 'failover of {{ labels.cluster }} skipped: {{ labels.instance }} is down', level: warn }
`;
}

/** A primary and one replica, linked and in sync. */
interface Pair {
  cluster: string;
  primary: TestRedis;
  replica: TestRedis;
  primaryName: string;
  replicaName: string;
  /** Clients that fail at once while their server is down. */
  primaryClient: Redis;
  replicaClient: Redis;
}

async function startPair(cluster: string): Promise<Pair> {
  const primary = await startRedis();
  const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
  const pair = {
    cluster,
    primary,
    replica,
    primaryName: `${cluster}-a`,
    replicaName: `${cluster}-b`,
    primaryClient: fastClient(primary.port),
    replicaClient: fastClient(replica.port),
  };
  await waitFor(`${cluster}: the primary to take writes`, async () => {
    await pair.primaryClient.set('seed', '1');
    return true;
  });
  for (let i = 0; i < 100; i++) await pair.primaryClient.set(`key-${i}`, `value-${i}`);
  await waitFor(`${cluster}: the replica linked and in sync`, async () => {
    const offset = await replicationField(pair.primaryClient, 'master_repl_offset');
    return (
      (await replicationField(pair.replicaClient, 'master_link_status')) === 'up' &&
      (await replicationField(pair.replicaClient, 'slave_repl_offset')) === offset
    );
  });
  return pair;
}

async function stopPair(pair: Pair | undefined): Promise<void> {
  if (!pair) return;
  pair.primaryClient.disconnect();
  pair.replicaClient.disconnect();
  await Promise.all([pair.primary.stop(), pair.replica.stop()]);
}

function inventoryText(pairs: Pair[]): string {
  const clusters = pairs.map(
    (pair) => `  ${pair.cluster}:
    kind: redis
    members:
      - { name: ${pair.primaryName}, address: 127.0.0.1:${pair.primary.port} }
      - { name: ${pair.replicaName}, address: 127.0.0.1:${pair.replica.port} }`,
  );
  return `clusters:\n${clusters.join('\n')}\n`;
}

function parseInventory(text: string): Inventory {
  const result = parseInventorySource('inventory.yaml', text, () => '');
  if (!result.success) assert.fail(JSON.stringify(result.problems));
  return result.inventory;
}

/** remediator in this process, as main.ts builds it: failover actions on the inventory, guards against `prometheusUrl`. */
async function startRemediator(
  state: TestRedis,
  inventory: Inventory,
  prometheusUrl: string,
  onError?: 'skip' | 'proceed',
): Promise<TestService & { actions: ActionRegistry }> {
  const actions = createDefaultActions({
    smtpUrl: undefined,
    smtpFrom: 'remediator@test',
    prometheusUrl,
    path: process.env.PATH,
    inventory,
    primaryRecord: createPrimaryRecord(state.client()),
  });
  const service = await startTestService({
    redisUrl: state.url,
    prometheusUrl,
    actions,
    playbooks: { 'redis-primary-failover.yaml': playbook(onError) },
  });
  return Object.assign(service, { actions });
}

describe('a replica that lagged past the guard is never promoted (real Redis, remediator exporter, Prometheus)', () => {
  let state: TestRedis | undefined;
  let lagging: Pair | undefined;
  let healthy: Pair | undefined;
  let dir: { path: string; remove: () => Promise<void> } | undefined;
  let exporter: ExporterProcess | undefined;
  let prometheus: TestPrometheus | undefined;
  let app: (TestService & { actions: ActionRegistry }) | undefined;
  let roles: RoleWatch | undefined;

  before(async () => {
    [state, lagging, healthy, dir] = await Promise.all([
      startRedis(),
      startPair('sessions'),
      startPair('carts'),
      tempDir('remediator-lag-guard-'),
    ]);
    const text = inventoryText([lagging, healthy]);
    const inventoryFile = join(dir.path, 'inventory.yaml');
    await writeFile(inventoryFile, text);
    exporter = await startExporterProcess({ inventoryFile, remediationsDir: dir.path });
    prometheus = await startPrometheus({ exporters: [exporter.address] });
    app = await startRemediator(state, parseInventory(text), prometheus.url);
    roles = watchRoles({
      [lagging.primaryName]: lagging.primary.port,
      [lagging.replicaName]: lagging.replica.port,
      [healthy.primaryName]: healthy.primary.port,
      [healthy.replicaName]: healthy.replica.port,
    });
  });

  after(async () => {
    await roles?.stop();
    await app?.close();
    await prometheus?.stop();
    await exporter?.stop();
    await Promise.all([stopPair(lagging), stopPair(healthy), state?.stop(), dir?.remove()]);
  });

  test('the primary dies while its only replica is 2 MiB behind: the run is skipped by the guard, with the lag in its reason, and the replica stays a replica', async (t) => {
    assert.ok(lagging && prometheus && app && roles);
    const scraper = prometheus;
    const { cluster, primaryName, replicaName } = lagging;
    const lag = `remediator_replication_lag_bytes{cluster="${cluster}", instance="${replicaName}"}`;
    await waitFor(
      'Prometheus to scrape the replica in sync',
      async () => ((await queryValue(scraper, lag)) ?? Infinity) < 1024,
      15_000,
      200,
    );

    // The replica loses its link while the primary takes 2 MiB of writes, but still follows it (the primary refuses
    // it the sync commands), as a replica cut off from its primary does: so it can witness the primary's death.
    await lagging.primaryClient.call('ACL', 'SETUSER', 'default', '-psync', '-sync');
    await lagging.primaryClient.call('CLIENT', 'KILL', 'TYPE', 'replica');
    const chunk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 32; i++) await lagging.primaryClient.set(`big-${i}`, chunk);
    const measured = await waitFor(
      'Prometheus to see the replica more than 1 MiB behind',
      async () => {
        const value = await queryValue(scraper, lag);
        return value !== undefined && value > maxLagBytes ? value : undefined;
      },
      15_000,
      200,
    );

    await lagging.primary.crash(); // SIGKILL
    // With the primary gone the exporter compares the replica with itself: its lag now reads 0. This is the trap
    // an instant guard would fall into; the guard's query looks back to the last scrape that had a primary.
    await waitFor('the exporter to compare the replica only with itself', async () => (await queryValue(scraper, lag)) === 0, 15_000, 200);
    await waitFor(
      'Prometheus to see the primary down',
      async () => (await queryValue(scraper, `remediator_member_up{cluster="${cluster}", instance="${primaryName}"}`)) === 0,
      15_000,
      200,
    );

    const job = await fire(app, cluster, primaryName);
    t.diagnostic(`lag seen by Prometheus before the kill: ${measured} bytes; skip: ${JSON.stringify(job.data.skip)}`);
    assert.equal(await app.service.queue.getJobState(job.id ?? ''), 'completed');
    assert.equal(job.data.skip?.kind, 'guard');
    const reason = job.data.skip.reason;
    assert.ok(
      reason.startsWith(
        `guard best-replica-within-lag failed: bottomk(1, last_over_time((remediator_replication_lag_bytes{cluster="${cluster}"} and on(cluster)`,
      ),
      reason,
    );
    const found = /returned \[\{"metric":\{(?<labels>[^}]*)\},"value":"(?<value>\d+)"\}\], expected no result$/.exec(reason);
    assert.ok(found?.groups, `the reason carries the query result: ${reason}`);
    assert.match(found.groups.labels ?? '', new RegExp(`"instance":"${replicaName}"`), 'the result names the replica');
    const lagInReason = Number(found.groups.value);
    assert.ok(lagInReason > maxLagBytes, `the result shows the lag measured against the live primary (${lagInReason} bytes), not 0`);

    assert.deepEqual(
      job.data.guards?.map((guard) => [guard.name, guard.status]),
      [
        ['lag-measured', 'passed'],
        ['best-replica-within-lag', 'failed'],
      ],
    );
    assert.deepEqual(job.data.guards[1]?.result, [
      {
        metric: {
          __name__: 'remediator_replication_lag_bytes',
          cluster,
          instance: replicaName,
          job: 'remediator-exporter',
          service: 'redis',
        },
        value: String(lagInReason),
      },
    ]);
    assert.deepEqual(job.data.steps, [], 'no redis.failover step ran');
    assert.equal(job.data.admittedAt, undefined);
    assert.deepEqual(
      job.data.skipSteps.map((step) => [step.name, step.status]),
      [['tell-on-call', 'succeeded']],
    );

    // Only a run promotes: once no run is left and the role watch has polled every member since, a promotion is in its history.
    await waitForIdleQueue(app.service.queue);
    const watch = roles;
    const polled = watch.polls;
    await waitFor('the role watch to poll every member again', () => watch.polls >= polled + 2, 10_000, 20);
    assert.deepEqual(
      roles.promotions.filter(({ member }) => member.startsWith(cluster)),
      [],
      `nothing in ${cluster} was promoted:\n${roles.history.join('\n')}`,
    );
    assert.ok(
      !roles.history.some((line) => line.endsWith(`${replicaName} master`)),
      `${replicaName} never answered ROLE as a primary:\n${roles.history.join('\n')}`,
    );
    assert.equal(await roleOf(lagging.replicaClient), 'slave');
    const runs = await app.service.queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed']);
    const sessionRuns = runs.filter((run) => run.data.target === cluster);
    assert.deepEqual(
      sessionRuns.map((run) => run.id),
      [job.id],
      `one run for ${cluster}`,
    );

    // The guard is what kept it a replica: redis.failover on its own sees a lone replica 0 bytes behind itself,
    // linked until moments ago, and promotes it.
    const failover = app.actions.get('redis.failover');
    assert.ok(failover);
    const output = await failover.run(failover.schema.parse({ cluster, maxLagBytes, maxStaleness: '10s' }), {
      logger: pino({ level: 'silent' }),
      signal: AbortSignal.timeout(30_000),
      runId: 'without-the-guard',
      alert: { fingerprint: job.data.alert.fingerprint, startsAt: job.data.alert.startsAt, labels: job.data.alert.labels },
    });
    t.diagnostic(`redis.failover without the guard: ${JSON.stringify(pick(output, ['primary', 'promoted']))}`);
    assert.deepEqual(
      pick(output, ['primary', 'promoted']),
      { primary: replicaName, promoted: true },
      'without the guard the lagging replica would have been promoted',
    );
  });

  test('positive control: the primary dies with its replica in sync: the same guards pass and the replica is promoted', async (t) => {
    assert.ok(healthy && prometheus && app && roles);
    const scraper = prometheus;
    const { cluster, primaryName, replicaName } = healthy;
    const lag = `remediator_replication_lag_bytes{cluster="${cluster}", instance="${replicaName}"}`;
    await waitFor(
      'Prometheus to scrape the replica in sync',
      async () => ((await queryValue(scraper, lag)) ?? Infinity) < 1024,
      15_000,
      200,
    );
    await healthy.primary.crash();
    await waitFor(
      'Prometheus to see the primary down',
      async () => (await queryValue(scraper, `remediator_member_up{cluster="${cluster}", instance="${primaryName}"}`)) === 0,
      15_000,
      200,
    );

    const job = await fire(app, cluster, primaryName);
    t.diagnostic(`guards: ${JSON.stringify(job.data.guards?.map(({ name, status, result }) => ({ name, status, result })))}`);
    assert.equal(job.data.skip, undefined, JSON.stringify(job.data.skip));
    assert.deepEqual(
      job.data.guards?.map((guard) => [guard.name, guard.status]),
      [
        ['lag-measured', 'passed'],
        ['best-replica-within-lag', 'passed'],
      ],
    );
    const measured = (job.data.guards[0]?.result ?? []) as { metric: Record<string, string>; value: string }[];
    assert.deepEqual(
      measured.map(({ metric }) => metric),
      [{ __name__: 'remediator_replication_lag_bytes', cluster, instance: replicaName, job: 'remediator-exporter', service: 'redis' }],
    );
    // In sync, give or take a replication PING the primary sent between the exporter's reads of the two offsets.
    const lastLag = measured[0]?.value ?? '';
    assert.ok(Number(lastLag) < 1024, `the replica's last lag against the live primary: ${lastLag} bytes`);
    assert.deepEqual(
      job.data.steps.map((step) => [step.name, step.status]),
      [['promote', 'succeeded']],
    );
    assert.deepEqual(pick(job.data.steps[0]?.output, ['primary', 'promoted']), { primary: replicaName, promoted: true });
    assert.equal(await roleOf(healthy.replicaClient), 'master');
    assert.equal(await healthy.replicaClient.set('after-failover', 'yes'), 'OK', 'the promoted replica takes writes');
    const watch = roles;
    await waitFor('the role watch to see the promotion', () => watch.promotions.some(({ member }) => member === replicaName), 5000);
    assert.deepEqual(
      watch.promotions.filter(({ member }) => member.startsWith(cluster)).map(({ member }) => member),
      [replicaName],
      'the members saw one promotion',
    );
  });
});

describe('guards when Prometheus is unreachable', () => {
  let state: TestRedis | undefined;
  let pair: Pair | undefined;
  let closed: TestService | undefined;
  let open: TestService | undefined;

  before(async () => {
    [state, pair] = await Promise.all([startRedis(), startPair('orders')]);
    const inventory = parseInventory(inventoryText([pair]));
    // Nothing listens on this port: Prometheus is down as far as remediator can tell.
    const prometheusUrl = `http://127.0.0.1:${await freePort()}`;
    closed = await startRemediator(state, inventory, prometheusUrl);
    open = await startRemediator(state, inventory, prometheusUrl, 'proceed');
  });

  after(async () => {
    await Promise.all([closed?.close(), open?.close()]);
    await Promise.all([stopPair(pair), state?.stop()]);
  });

  test('with the default onError (skip) the run is skipped, the reason naming the error; with onError: proceed the same alert fails over', async (t) => {
    assert.ok(pair && closed && open);
    const { cluster, primaryName, replicaName } = pair;
    await pair.primary.crash();

    const skipped = await fire(closed, cluster, primaryName);
    t.diagnostic(`onError skip: ${JSON.stringify(skipped.data.skip)}`);
    assert.equal(skipped.data.skip?.kind, 'guard');
    assert.match(
      skipped.data.skip.reason,
      /^guard lag-measured failed: last_over_time\(.+\) could not be evaluated \(Prometheus at http:\/\/127\.0\.0\.1:\d+ is unreachable: fetch failed\)$/,
    );
    assert.deepEqual(
      skipped.data.guards?.map((guard) => [guard.name, guard.status, guard.ignored]),
      [
        ['lag-measured', 'error', undefined],
        ['best-replica-within-lag', 'error', undefined],
      ],
    );
    assert.deepEqual(skipped.data.steps, [], 'no redis.failover step ran');
    assert.equal(await roleOf(pair.replicaClient), 'slave', 'nothing was promoted');

    const proceeded = await fire(open, cluster, primaryName);
    t.diagnostic(
      `onError proceed: guards ${JSON.stringify(proceeded.data.guards?.map(({ name, status, ignored }) => ({ name, status, ignored })))}`,
    );
    assert.equal(proceeded.data.skip, undefined, JSON.stringify(proceeded.data.skip));
    assert.deepEqual(
      proceeded.data.guards?.map((guard) => [guard.name, guard.status, guard.ignored]),
      [
        ['lag-measured', 'error', true],
        ['best-replica-within-lag', 'error', true],
      ],
    );
    assert.match(proceeded.data.guards[0]?.error ?? '', /is unreachable/);
    assert.deepEqual(
      proceeded.data.steps.map((step) => [step.name, step.status]),
      [['promote', 'succeeded']],
    );
    assert.deepEqual(pick(proceeded.data.steps[0]?.output, ['primary', 'promoted']), { primary: replicaName, promoted: true });
    assert.equal(await roleOf(pair.replicaClient), 'master');
  });
});

/** Posts PrimaryUnreachable for a dead primary as Alertmanager would, and waits for the run to finish. */
async function fire(app: TestService, cluster: string, instance: string): Promise<Job<RunData>> {
  const labels = primaryUnreachableLabels(cluster, instance);
  const body = webhookBody(
    [
      {
        labels,
        annotations: { summary: `${instance} (primary) in ${cluster} does not answer` },
        fingerprint: alertFingerprint(labels),
        startsAt: new Date().toISOString(),
      },
    ],
    {
      groupKey: `{}/{alertname="PrimaryUnreachable"}:{alertname="PrimaryUnreachable", cluster="${cluster}"}`,
      groupLabels: { alertname: 'PrimaryUnreachable', cluster },
      commonLabels: labels,
    },
  );
  const response = await postWebhook(app.url, body);
  assert.equal(response.status, 202, JSON.stringify(response.body));
  const runs = (response.body as { runs: { jobId: string }[] }).runs;
  assert.equal(runs.length, 1);
  const jobId = runs[0]?.jobId ?? '';
  return waitFor(
    `run ${jobId} to finish`,
    async () => {
      const jobState = await app.service.queue.getJobState(jobId);
      return jobState === 'completed' || jobState === 'failed' ? app.service.queue.getJob(jobId) : undefined;
    },
    30_000,
    100,
  );
}

/** The single value of an instant query; undefined when it returns nothing (or Prometheus errs). */
async function queryValue(prometheus: TestPrometheus, query: string): Promise<number | undefined> {
  const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { data?: { result?: { value: [number, string] }[] } };
  const value = body.data?.result?.[0]?.value[1];
  return value === undefined ? undefined : Number(value);
}

async function replicationField(client: Redis, field: string): Promise<string | undefined> {
  const line = (await client.info('replication')).split(/\r?\n/).find((text) => text.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim();
}

async function roleOf(client: Redis): Promise<string> {
  return ((await client.call('ROLE')) as unknown[])[0] as string;
}

function pick(value: unknown, keys: string[]): Record<string, unknown> {
  const record = (value ?? {}) as Record<string, unknown>;
  return Object.fromEntries(keys.map((key) => [key, record[key]]));
}
