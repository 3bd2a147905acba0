import type { Inventory } from '../../src/inventory/inventory.js';
import { redisInventoryOf, synced } from '../helpers/redis-failover.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

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
