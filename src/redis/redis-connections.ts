import { Redis } from 'ioredis';
import type { Logger } from 'pino';

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

/** Creates both connections; errors are logged at most once per 10 s while Redis is down. */
export function createRedisConnections(url: string, options: { commandTimeoutMs: number; logger: Logger }): RedisConnections {
  const retryStrategy = (times: number) => Math.min(times * 200, 2000);
  const producer = new Redis(url, {
    connectionName: 'remediator-producer',
    retryStrategy,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs,
  });
  const worker = new Redis(url, { connectionName: 'remediator-worker', retryStrategy, maxRetriesPerRequest: null });
  let lastError = 0;
  for (const connection of [producer, worker]) {
    connection.on('error', (error) => {
      if (Date.now() - lastError > 10_000) options.logger.warn({ err: error }, 'Redis connection error');
      lastError = Date.now();
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
        new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
      ]);
      clearTimeout(timer);
    },
    close() {
      producer.disconnect();
      worker.disconnect();
    },
  };
}
