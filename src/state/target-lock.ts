import type { Redis } from 'ioredis';

/** A held lease on one target. */
export interface TargetLease {
  readonly target: string;
  /** Increases with every acquisition of this target: a step checks it is still the newest holder. */
  readonly fencingToken: number;
  /** True while this lease is still the current holder (not expired and taken over). */
  isHeld(): Promise<boolean>;
  /** Extends the lease; false when it was lost. */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

/** Per-target mutual exclusion across every remediator process sharing one Redis. */
export interface TargetLocks {
  /** Takes the lease for `owner` (a run id), or undefined when another owner holds it. The same owner may take it again (a recovered run). */
  acquire(target: string, owner: string): Promise<TargetLease | undefined>;
}

// KEYS[1] lock, KEYS[2] fencing counter; ARGV owner, ttl. Value "<owner> <token>".
const acquireScript = `
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. ' ' then return nil end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. token, 'PX', ARGV[2])
return token`;
const renewScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Redis leases: SET with an expiry so a dead holder's lease lapses after `ttlMs`, compare-and-set renewals and
 * releases (Lua) so nobody extends or frees a lease they no longer hold, and a fencing token per acquisition.
 */
export function createTargetLocks(redis: Redis, options: { prefix: string; ttlMs: number }): TargetLocks {
  const key = (target: string) => `${options.prefix}:lock:${target}`;
  const tokenKey = (target: string) => `${options.prefix}:fence:${target}`;
  return {
    async acquire(target, owner) {
      const token = (await redis.eval(acquireScript, 2, key(target), tokenKey(target), owner, options.ttlMs)) as number | null;
      if (token === null) return undefined;
      const value = `${owner} ${token}`;
      return {
        target,
        fencingToken: token,
        async isHeld() {
          return (await redis.get(key(target))) === value;
        },
        async renew() {
          return ((await redis.eval(renewScript, 1, key(target), value, options.ttlMs)) as number) === 1;
        },
        async release() {
          await redis.eval(releaseScript, 1, key(target), value);
        },
      };
    },
  };
}
