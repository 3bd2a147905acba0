import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisTarget, SentinelTarget } from './redis-target.js';
import { createRateLimited } from '../logging/rate-limited.js';

export type { RedisTarget, SentinelTarget } from './redis-target.js';

// ioredis types replyMapping by a generic of its constructor; these connections keep the default.
type ConnectionOptions = Omit<RedisOptions, 'replyMapping'>;

/** The two connections a remediator process uses. */
export interface RedisConnections {
  /** Webhook side: fails fast while Redis is down (no offline queue), so the webhook answers 503 at once. */
  producer: Redis;
  /** Worker side: waits out outages (BullMQ requires maxRetriesPerRequest: null for workers). */
  worker: Redis;
  /** Resolves when the producer is ready or `timeoutMs` passed (start-up goes on; /readyz tells the state). */
  ready(timeoutMs: number): Promise<void>;
  close(): void;
}

/**
 * The ioredis options that find the primary through Sentinel. BullMQ's duplicates of a connection (its blocking
 * client) inherit them, so they follow a failover too.
 */
function sentinelOptions(target: SentinelTarget, commandTimeoutMs: number): ConnectionOptions {
  return {
    sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
    name: target.name,
    password: target.password,
    sentinelPassword: target.sentinelPassword,
    sentinelCommandTimeout: commandTimeoutMs,
    // Reconnect on +switch-master at once, rather than when the old primary's connection breaks (it may not).
    failoverDetector: true,
    // A primary demoted under an open connection answers READONLY until Sentinel kills its clients: reconnect
    // (which asks the sentinels again) and resend the command.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  };
}

/**
 * Creates both connections, to one server by URL or to the primary the sentinels name; errors are logged at most
 * once per 10 s while Redis is down.
 */
export function createRedisConnections(target: RedisTarget, options: { commandTimeoutMs: number; logger: Logger }): RedisConnections {
  const retryStrategy = (times: number) => Math.min(times * 200, 2000);
  const connect = (connectionOptions: ConnectionOptions) =>
    typeof target === 'string'
      ? new Redis(target, connectionOptions)
      : new Redis({ ...sentinelOptions(target, options.commandTimeoutMs), ...connectionOptions });
  const producer = connect({
    connectionName: 'remediator-producer',
    retryStrategy,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs,
  });
  const worker = connect({ connectionName: 'remediator-worker', retryStrategy, maxRetriesPerRequest: null });
  const rateLimited = createRateLimited(10_000);
  for (const connection of [producer, worker]) {
    connection.on('error', (error) => {
      rateLimited((suppressed) => {
        options.logger.warn({ err: error, suppressed }, 'Redis connection error');
      });
    });
  }
  return {
    producer,
    worker,
    async ready(timeoutMs) {
      if (producer.status === 'ready') return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise((resolve) => producer.once('ready', resolve)),
        new Promise((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    },
    close() {
      producer.disconnect();
      worker.disconnect();
    },
  };
}
