import type { Redis } from 'ioredis';
import { sleep } from '../../src/util/sleep.js';

/** What a steady writer saw once stopped. */
export interface WriterReport {
  /** The keys whose SET was acknowledged (`<prefix>:<n>` = n), in order. */
  acknowledged: string[];
  /** The longest time between two acknowledged writes. */
  longestGapMs: number;
  /** Writes refused or failed (READONLY, NOREPLICAS, a closed connection), each retried. */
  errors: number;
  /** The member that acknowledged the last write. */
  lastPrimary: string | undefined;
}

/** A writer running in the background: one SET at a time to whichever member is primary. */
export interface SteadyWriter {
  /** How many writes were acknowledged so far. */
  count(): number;
  /** Stops it after the write in flight and reports. */
  stop(): Promise<WriterReport>;
}

/**
 * Writes `<prefix>:0`, `<prefix>:1`, … one at a time to the member that says it is primary (ROLE), finding it again
 * after any error (a write refused with READONLY after a switchover, NOREPLICAS while the new primary's replicas
 * link): an unacknowledged write is retried under the same key. Bounded by `maxWrites` and `maxMs`.
 */
export function startSteadyWriter(
  members: readonly { name: string; client: Redis }[],
  options: { prefix: string; maxWrites: number; maxMs: number },
): SteadyWriter {
  const acknowledged: string[] = [];
  const control = { stopped: false };
  let longestGapMs = 0;
  let errors = 0;
  let current: { name: string; client: Redis } | undefined;
  const findPrimary = async () => {
    for (const member of members) {
      const role = (await member.client.call('ROLE').catch(() => [])) as unknown[];
      if (role[0] === 'master') return member;
    }
    return undefined;
  };
  const loop = (async () => {
    const started = performance.now();
    let last = started;
    while (!control.stopped && acknowledged.length < options.maxWrites && performance.now() - started < options.maxMs) {
      current ??= await findPrimary();
      if (!current) {
        await sleep(5); // between two rounds of ROLE while no member is primary
        continue;
      }
      const key = `${options.prefix}:${acknowledged.length}`;
      try {
        await current.client.set(key, String(acknowledged.length));
      } catch {
        errors++;
        current = undefined;
        continue;
      }
      const now = performance.now();
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
      acknowledged.push(key);
    }
  })();
  return {
    count: () => acknowledged.length,
    async stop() {
      control.stopped = true;
      await loop;
      return { acknowledged, longestGapMs: Math.round(longestGapMs), errors, lastPrimary: current?.name };
    },
  };
}
