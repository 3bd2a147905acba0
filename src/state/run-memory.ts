import type { Redis } from 'ioredis';

/**
 * Small facts an action must remember across retries of one run, in whichever process the retry lands
 * (e.g. "this run already asked Sentinel to fail over from X").
 */
export interface RunMemory {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
}

/** RunMemory in remediator's Redis; the connection may be a getter (actions are built before Redis is up). */
export function createRunMemory(redis: Redis | (() => Redis), prefix = 'remediator:memory'): RunMemory {
  const client = typeof redis === 'function' ? redis : () => redis;
  return {
    async get(key) {
      return (await client().get(`${prefix}:${key}`)) ?? undefined;
    },
    async set(key, value, ttlMs) {
      await client().set(`${prefix}:${key}`, value, 'PX', ttlMs);
    },
  };
}

/** RunMemory in this process only (validation, tests): per instance, never module-level. */
export function createLocalRunMemory(): RunMemory {
  const values = new Map<string, { value: string; expires: number }>();
  return {
    get(key) {
      const entry = values.get(key);
      return Promise.resolve(entry && entry.expires > Date.now() ? entry.value : undefined);
    },
    set(key, value, ttlMs) {
      values.set(key, { value, expires: Date.now() + ttlMs });
      return Promise.resolve();
    },
  };
}
