import type { Redis } from 'ioredis';

/**
 * Where remediator writes down which member it made primary, per cluster. When an old primary comes back
 * still believing it is primary, this record (not a guess from the data) decides which of the two is fenced.
 */
export interface PrimaryRecord {
  get(cluster: string): Promise<string | undefined>;
  set(cluster: string, member: string): Promise<void>;
}

/**
 * A PrimaryRecord in remediator's own Redis (hash `<prefix>:primaries`). The connection may be given as a
 * getter: playbooks are validated (with the actions) before remediator connects to Redis.
 */
export function createPrimaryRecord(redis: Redis | (() => Redis), prefix = 'remediator'): PrimaryRecord {
  const key = `${prefix}:primaries`;
  const client = typeof redis === 'function' ? redis : () => redis;
  return {
    async get(cluster) {
      return (await client().hget(key, cluster)) ?? undefined;
    },
    async set(cluster, member) {
      await client().hset(key, cluster, member);
    },
  };
}
