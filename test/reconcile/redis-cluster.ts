import type { Job } from 'bullmq';
import type { RunData } from '../../src/core/run-data.js';
import type { Inventory } from '../../src/inventory/inventory.js';
import type { ServiceSettings } from '../../src/service/create-service.js';
import { freePort } from '../../src/util/free-port.js';
import { startAlertmanager, type TestAlertmanager } from '../helpers/alertmanager.js';
import { redisInventoryOf, replication, synced } from '../helpers/redis-failover.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

/** The failover of remediations/redis-primary-failover.yaml without its guards (no Prometheus here) or failback. */
export function failoverPlaybook(budget = ''): string {
  return `
name: redis-primary-failover
match: '{alertname="PrimaryUnreachable", service="redis"}'
target: '{{ labels.cluster }}'
${budget === '' ? '' : `budget: ${budget}\n`}steps:
  - name: promote
    action: redis.failover
    with: { cluster: '{{ labels.cluster }}', protect: false }
`;
}

/** Cluster `cache`, its inventory, and the Redis of remediator's own queue. */
export interface CacheCluster {
  a: TestRedis;
  b: TestRedis;
  c: TestRedis;
  inventory: Inventory;
  queue: TestRedis;
  stop(): Promise<void>;
}

/** Cluster `cache`: cache-a the primary, cache-b (preferred) and cache-c its replicas, in sync; and a queue Redis. */
export async function startCacheCluster(): Promise<CacheCluster> {
  const queue = await startRedis();
  const a = await startRedis();
  const b = await startRedis({ replicaOf: a.port });
  const c = await startRedis({ replicaOf: a.port });
  await synced(a.client(), [b.client(), c.client()]);
  const inventory = redisInventoryOf({
    'cache-a': { redis: a },
    'cache-b': { redis: b, priority: 2 },
    'cache-c': { redis: c, priority: 1 },
  });
  return {
    a,
    b,
    c,
    inventory,
    queue,
    async stop() {
      for (const server of [a, b, c, queue]) await server.stop();
    },
  };
}

/** Resolves once cache-b and cache-c both see their link to the primary down (it is dead to them too). */
export async function replicasLostPrimary(cluster: CacheCluster): Promise<void> {
  await waitFor('the replicas to see their link down', async () =>
    (await Promise.all([cluster.b, cluster.c].map(async (server) => (await replication(server.client())).get('master_link_status')))).every(
      (status) => status === 'down',
    ),
  );
}

/** Cluster `cache`, a real Alertmanager posting to remediator, and remediator with its reconcile loop reading it. */
export interface ReconcileFixture {
  cluster: CacheCluster;
  am: TestAlertmanager;
  app: TestService;
  /** The runs of `playbook`, in every state. */
  runs(playbook: string): Promise<Job<RunData>[]>;
  stop(): Promise<void>;
}

/** Starts a ReconcileFixture whose only playbook is the failover (with `budget`); the loop passes every 300 ms. */
export async function startReconcileFixture(
  options: { budget?: string; settings?: Partial<ServiceSettings> } = {},
): Promise<ReconcileFixture> {
  const cluster = await startCacheCluster();
  const port = await freePort();
  const am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/webhooks/alertmanager` });
  const app = await startTestService({
    redisUrl: cluster.queue.url,
    playbooks: { 'redis-primary-failover.yaml': failoverPlaybook(options.budget) },
    inventory: cluster.inventory,
    settings: { port, ...options.settings },
    reconcile: { intervalMs: 300, leaseTtlMs: 1500, alertmanagerWarmupMs: 120_000, recheckAfterMs: 1000, alertmanagers: [am.url] },
  });
  return {
    cluster,
    am,
    app,
    async runs(playbook) {
      return (await app.service.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'])).filter(
        (job) => job.data.playbook === playbook,
      );
    },
    async stop() {
      await app.close();
      await am.stop();
      await cluster.stop();
    },
  };
}
