import { Redis } from 'ioredis';
import type { InventoryCluster, InventoryMember } from './inventory.js';

/**
 * A one-shot ioredis client for one member, with the cluster's credentials: no retries and no offline queue,
 * because a probe or a failover step must see a dead member as dead at once, not wait for it.
 */
export function createMemberClient(
  cluster: InventoryCluster,
  member: InventoryMember,
  options: { connectionName: string; timeoutMs?: number },
): Redis {
  const client = new Redis({
    host: member.host,
    port: member.port,
    ...(cluster.username === undefined ? {} : { username: cluster.username }),
    ...(cluster.password === undefined ? {} : { password: cluster.password }),
    ...(options.timeoutMs === undefined ? {} : { connectTimeout: options.timeoutMs, commandTimeout: options.timeoutMs }),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectionName: options.connectionName,
  });
  client.on('error', () => undefined);
  return client;
}
