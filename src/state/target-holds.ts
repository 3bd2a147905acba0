import type { Redis } from 'ioredis';
import { scanKeys } from '../redis/scan-keys.js';

/** Why and until when automatic remediation of a target is held. */
export interface TargetHold {
  reason: string;
  until: string;
  by: string;
}

/** Holds on targets: while one is set, remediation runs for that target are skipped, not executed. */
export interface TargetHolds {
  /** Holds `target` for `forMs` from `now` (the wall clock unless given: the simulator's clock is its own). */
  hold(target: string, forMs: number, reason: string, by: string, now?: Date): Promise<TargetHold>;
  release(target: string): Promise<boolean>;
  get(target: string): Promise<TargetHold | undefined>;
  /** Every hold in force, by target. */
  list(): Promise<(TargetHold & { target: string })[]>;
}

/** Holds in remediator's Redis (they expire on their own); the connection may be a getter. */
export function createTargetHolds(redis: Redis | (() => Redis), prefix = 'remediator:hold'): TargetHolds {
  const client = typeof redis === 'function' ? redis : () => redis;
  const key = (target: string) => `${prefix}:${target}`;
  return {
    async hold(target, forMs, reason, by, now = new Date()) {
      const hold: TargetHold = { reason, until: new Date(now.getTime() + forMs).toISOString(), by };
      await client().set(key(target), JSON.stringify(hold), 'PX', forMs);
      return hold;
    },
    async release(target) {
      return (await client().del(key(target))) === 1;
    },
    async get(target) {
      const value = await client().get(key(target));
      return value === null ? undefined : parseHold(value);
    },
    async list() {
      const keys = await scanKeys(client(), `${prefix}:*`);
      const values = keys.length === 0 ? [] : await client().mget(...keys);
      const holds = keys.flatMap((name, index) => {
        const value = values[index];
        // A hold that expired between the scan and the read is gone.
        return value === null || value === undefined ? [] : [{ target: name.slice(prefix.length + 1), ...parseHold(value) }];
      });
      return holds.sort((a, b) => a.target.localeCompare(b.target));
    },
  };
}

function parseHold(value: string): TargetHold {
  try {
    return JSON.parse(value) as TargetHold;
  } catch {
    return { reason: 'unreadable hold', until: '', by: '' };
  }
}
