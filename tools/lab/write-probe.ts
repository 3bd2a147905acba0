import type { Redis } from 'ioredis';
import { sleep } from '../../src/util/sleep.js';

/** A write probe over the members of a cluster, running until stopped. */
export interface WriteProbe {
  /** When `name` accepted a write after `after` (ms since the epoch), oldest first. */
  writesAfter(name: string, after: number): number[];
  /** Stops the loop (the clients stay open: they belong to the caller); safe to call twice. */
  stop(): Promise<void>;
}

/** One round of the probe: when it started and when each member that accepted the write acknowledged it. */
export interface ProbeRound {
  round: number;
  startedAt: number;
  accepted: Record<string, number>;
}

/** A member the probe writes to; with `reconnect`, a command that times out replaces its connection. */
export interface ProbeMember {
  name: string;
  client: Redis;
  /**
   * A new connection to the member. After a timeout the old one is dropped rather than kept: a late reply on it
   * must never be read as the answer to a later write (a paused or cut-off primary answers all at once on return).
   */
  reconnect?: () => Redis;
}

const timedOut = (error: unknown) => error instanceof Error && /timed? ?out/i.test(error.message);

/**
 * Every `intervalMs`, tries a SET of `key` on every member and remembers when each one accepted it: a primary
 * accepts, a replica refuses (READONLY), a primary without enough replicas refuses (NOREPLICAS) and a dead member does
 * not answer, so the first write accepted by a member after a fault is when it became a primary that clients can
 * use. The clients should fail fast (no offline queue, no retries per command), or a dead member would hold every
 * round. `onRound` hears every round in which some member accepted the write.
 */
export function startWriteProbe(
  members: readonly ProbeMember[],
  options: { key: string; intervalMs?: number; onRound?: (round: ProbeRound) => void },
): WriteProbe {
  const intervalMs = options.intervalMs ?? 50;
  const writes = new Map<string, number[]>();
  const clients = new Map(members.map((member) => [member.name, member.client]));
  const state = { running: true };
  const loop = (async () => {
    let counter = 0;
    while (state.running) {
      counter++;
      const round: ProbeRound = { round: counter, startedAt: Date.now(), accepted: {} };
      await Promise.all(
        members.map(async ({ name, reconnect }) => {
          const client = clients.get(name);
          if (!client) return;
          try {
            if (client.status === 'wait' || client.status === 'end') await client.connect();
            await client.set(options.key, String(counter));
            const at = Date.now();
            round.accepted[name] = at;
            const list = writes.get(name) ?? [];
            list.push(at);
            writes.set(name, list);
          } catch (error) {
            // down, or a replica refusing writes (READONLY): exactly what the probe measures
            if (reconnect && timedOut(error)) {
              client.disconnect();
              clients.set(name, reconnect());
            }
          }
        }),
      );
      if (Object.keys(round.accepted).length > 0) options.onRound?.(round);
      await sleep(intervalMs);
    }
  })();
  let stopping: Promise<void> | undefined;
  return {
    writesAfter: (name, after) => (writes.get(name) ?? []).filter((at) => at > after),
    stop() {
      state.running = false;
      stopping ??= loop;
      return stopping;
    },
  };
}
