import type { Redis } from 'ioredis';

/** The single-holder lease of the reconcile loop. */
export interface ReconcileLease {
  /**
   * Takes the lease, or extends it when this owner holds it. `held` false: another process holds it, for
   * `expiresInMs` more unless its holder renews it (the moment to try again).
   */
  claim(): Promise<{ held: boolean; expiresInMs: number }>;
  /** Gives the lease up (at shutdown), so another process takes over at once rather than after the TTL. */
  release(): Promise<void>;
}

// KEYS[1] lease; ARGV owner, ttl. Returns {1, ttl} when held by owner now, {0, pttl} when another holds it.
const claimScript = `
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, tonumber(ARGV[2])}
end
return {0, redis.call('PTTL', KEYS[1])}`;
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * The lease as one Redis key with an expiry, claimed and renewed by compare-and-set (Lua), like the run locks
 * (src/state/target-lock.ts): a holder that dies stops renewing and the key lapses `ttlMs` later. It only saves
 * duplicate work: what the loop enqueues is deduplicated by job id and acts under the target's lock anyway.
 */
export function createReconcileLease(redis: Redis, options: { key: string; owner: string; ttlMs: number }): ReconcileLease {
  return {
    async claim() {
      const [held, ttl] = (await redis.eval(claimScript, 1, options.key, options.owner, options.ttlMs)) as [number, number];
      return { held: held === 1, expiresInMs: Math.max(0, ttl) };
    },
    async release() {
      await redis.eval(releaseScript, 1, options.key, options.owner);
    },
  };
}
