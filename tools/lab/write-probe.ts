import type { Redis } from 'ioredis';
import { sleep } from '../../src/util/sleep.js';

/** A write probe over the members of a cluster, running until stopped. */
export interface WriteProbe {
  /** When `name` accepted a write after `after` (ms since the epoch), oldest first. */
  writesAfter(name: string, after: number): number[];
  /** Stops the loop (the clients stay open: they belong to the caller); safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Every `intervalMs`, tries a SET of `key` on every member and remembers when each one accepted it: a primary
 * accepts, a replica refuses (READONLY) and a dead member does not answer, so the first write accepted by a member
 * after a fault is when it became a primary that clients can use. The clients should fail fast (no offline queue,
 * no retries per command), or a dead member would hold every round.
 */
export function startWriteProbe(
  members: readonly { name: string; client: Redis }[],
  options: { key: string; intervalMs?: number },
): WriteProbe {
  const intervalMs = options.intervalMs ?? 50;
  const writes = new Map<string, number[]>();
  const state = { running: true };
  const loop = (async () => {
    let counter = 0;
    while (state.running) {
      counter++;
      await Promise.all(
        members.map(async ({ name, client }) => {
          try {
            if (client.status === 'wait' || client.status === 'end') await client.connect();
            await client.set(options.key, String(counter));
            const list = writes.get(name) ?? [];
            list.push(Date.now());
            writes.set(name, list);
          } catch {
            // down, or a replica refusing writes (READONLY): exactly what the probe measures
          }
        }),
      );
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
