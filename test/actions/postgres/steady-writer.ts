import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { PostgresServer } from '../../helpers/postgres.js';
import { sleep } from '../../../src/util/sleep.js';

/** What a steady writer did: the numbers whose INSERT was acknowledged, and its longest wait between two of them. */
export interface WriterResult {
  committed: number[];
  attempts: number;
  failures: number;
  longestGapMs: number;
}

/** A writer inserting 1, 2, 3… into `seq (n int PRIMARY KEY)` on whichever server takes them. */
export interface SteadyWriter {
  /** Acknowledged inserts so far. */
  committedCount(): number;
  /** Stops it (at once, or when its bounds are reached) and says what it did. */
  stop(): Promise<WriterResult>;
}

/** Pause after a refused insert before trying the next server (a client's retry, not a wait for an event). */
const retryMs = 5;

/**
 * Starts one client that inserts sequence numbers one at a time, each on the server it last succeeded on; a refused
 * or broken insert moves it to the next server in `servers` (a client following the primary). Every attempt gets a
 * new number, so that an insert whose outcome it never learned cannot be counted. Bounded: `maxAttempts` and `maxMs`.
 */
export function startSteadyWriter(servers: readonly PostgresServer[], bounds: { maxAttempts: number; maxMs: number }): SteadyWriter {
  const committed: number[] = [];
  let attempts = 0;
  let failures = 0;
  let longestGapMs = 0;
  let stopped = false;
  const loop = async () => {
    const started = performance.now();
    let lastCommit: number | undefined;
    let index = 0;
    let client: pg.Client | undefined;
    while (!stopped && attempts < bounds.maxAttempts && performance.now() - started < bounds.maxMs) {
      const n = ++attempts;
      try {
        client ??= await servers[index % servers.length]?.connect();
        await client?.query('INSERT INTO seq (n) VALUES ($1)', [n]);
        committed.push(n);
        const now = performance.now();
        if (lastCommit !== undefined) longestGapMs = Math.max(longestGapMs, now - lastCommit);
        lastCommit = now;
      } catch {
        failures++;
        await client?.end().catch(() => undefined);
        client = undefined;
        index++;
        await sleep(retryMs);
      }
    }
    await client?.end().catch(() => undefined);
  };
  const done = loop();
  return {
    committedCount: () => committed.length,
    async stop() {
      stopped = true;
      await done;
      return { committed, attempts, failures, longestGapMs: Math.round(longestGapMs) };
    },
  };
}
