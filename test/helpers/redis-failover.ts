import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import type { ActionDefinition } from '../../src/core/action.js';
import type { Inventory } from '../../src/inventory/inventory.js';
import { parseInventorySource } from '../../src/inventory/load-inventory.js';
import { parseInfo } from '../../src/inventory/redis-info.js';
import type { TestRedis } from './redis-server.js';
import { waitFor } from './wait.js';

/** What redis.failover returns. */
export interface FailoverOutput {
  primary: string | null;
  changed: boolean;
  promoted: boolean;
  fenced: string[];
  repointed: string[];
  unreachable: string[];
  confirmation?: {
    primary: string;
    confirmed: boolean;
    reason: string;
    lost: string[];
    rounds: { afterMs: number; primary: string; witnesses: Record<string, string> }[];
  };
  protection?: { applied: boolean; minReplicasToWrite?: number; maxLagSeconds?: number; warning?: string };
}

const logger = pino({ level: 'silent' });

/** An inventory with one Redis cluster `cache` of the given members, each at its server's loopback address. */
export function redisInventoryOf(members: Record<string, { redis: TestRedis; priority?: number }>): Inventory {
  const lines = Object.entries(members).map(
    ([name, { redis, priority }]) => `      - { name: ${name}, address: 127.0.0.1:${redis.port}, priority: ${priority ?? 0} }`,
  );
  const result = parseInventorySource(
    'inventory.yaml',
    `clusters:\n  cache:\n    kind: redis\n    members:\n${lines.join('\n')}\n`,
    () => '',
  );
  if (!result.success) assert.fail(JSON.stringify(result.problems));
  return result.inventory;
}

/** Runs redis.failover on cluster `cache` with `withBlock`, as the runner would. */
export async function runFailover(
  action: ActionDefinition,
  withBlock: Record<string, unknown>,
  startsAt = new Date().toISOString(),
): Promise<FailoverOutput> {
  const output = await action.run(action.schema.parse({ cluster: 'cache', ...withBlock }), {
    logger,
    signal: new AbortController().signal,
    runId: 'redis-failover-test',
    alert: { fingerprint: 'f', startsAt, labels: {} },
  });
  return output as unknown as FailoverOutput;
}

/** INFO replication of the server behind `client`. */
export const replication = async (client: Redis) => parseInfo(await client.info('replication'));

/** Waits until every replica is linked to `primary` and has applied all it wrote. */
export async function synced(primary: Redis, replicas: Redis[]): Promise<void> {
  await waitFor('replicas to catch up', async () => {
    const offset = (await replication(primary)).get('master_repl_offset');
    const states = await Promise.all(replicas.map(replication));
    return states.every((info) => info.get('master_link_status') === 'up' && info.get('slave_repl_offset') === offset);
  });
}
