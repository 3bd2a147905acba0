import type { Redis } from 'ioredis';

/**
 * Runs a step ended as skipped because acting would have been wrong at that moment (the primary's death was not
 * confirmed), noted for the reconcile loop: while their alert stays active it runs the episode again later, since
 * no new notification will (a repeat of the same episode has the same job id). Per queue, in remediator's Redis.
 */
export interface SkipRechecks {
  note(runId: string): Promise<void>;
  list(): Promise<string[]>;
  forget(runId: string): Promise<void>;
}

/** SkipRechecks as one Redis set under `prefix`. */
export function createSkipRechecks(redis: Redis, options: { prefix: string }): SkipRechecks {
  const key = `${options.prefix}:rechecks`;
  return {
    async note(runId) {
      await redis.sadd(key, runId);
    },
    async list() {
      return redis.smembers(key);
    },
    async forget(runId) {
      await redis.srem(key, runId);
    },
  };
}
