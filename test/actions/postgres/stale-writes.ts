import assert from 'node:assert/strict';
import { caughtUp, type PostgresServer } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';

/** Writes in flight on one server, counted as they are acknowledged or fail. */
export interface WriteAttempts {
  /** Commits acknowledged so far. */
  acknowledged(): number;
  /** How many of them the server shows waiting for a synchronous standby. */
  waiting(): Promise<number>;
  /** Every write acknowledged or failed (those still pending after `boundMs` are abandoned and count as failed). */
  settled: Promise<{ acknowledged: number; failed: number }>;
}

/**
 * Starts `count` single-row INSERTs on `server`, each on its own connection, and never cancels them: a cancelled
 * commit that waits for a synchronous standby returns success (with a warning), which would count as acknowledged.
 */
export function attemptWrites(server: PostgresServer, count: number, boundMs = 60_000): WriteAttempts {
  let acknowledged = 0;
  const one = async (index: number) => {
    const client = await server.connect();
    try {
      await client.query("INSERT INTO notes (note) VALUES ('written to ' || $1::text)", [`${server.name} #${index}`]);
      acknowledged++;
    } catch {
      // refused, or the connection ended by the fence: not acknowledged
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const all = Promise.all(Array.from({ length: count }, (_unused, index) => one(index)));
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, boundMs);
  });
  const settled = Promise.race([all, bound]).then(() => {
    clearTimeout(timer);
    return { acknowledged, failed: count - acknowledged };
  });
  return {
    acknowledged: () => acknowledged,
    async waiting() {
      const [row] = await server.query<{ waiting: number }>(
        "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND query LIKE 'INSERT INTO notes%'",
      );
      return row?.waiting ?? 0;
    },
    settled,
  };
}

/**
 * What a stale primary must show while it waits to be fenced: `count` writes started on it all wait for a synchronous
 * standby and none is acknowledged; `fence` (a postgres.promote run) fences it; none of them was acknowledged even
 * then, and the fenced server refuses writes. Resolves with the fence's output and how the writes ended.
 */
export async function expectNoStaleWritesThroughFence<T extends { fenced?: unknown }>(
  server: PostgresServer,
  fence: () => Promise<T>,
  count = 3,
): Promise<{ output: T; settled: { acknowledged: number; failed: number } }> {
  const writes = attemptWrites(server, count);
  await waitFor('the writes to wait for a synchronous standby', async () => (await writes.waiting()) === count);
  assert.equal(writes.acknowledged(), 0);
  const output = await fence();
  assert.deepEqual(output.fenced, [server.name]);
  const settled = await writes.settled;
  assert.equal(settled.acknowledged, 0, 'writes acknowledged by the stale primary');
  await assert.rejects(server.query("INSERT INTO notes (note) VALUES ('after the fence')"), /read-only transaction/);
  return { output, settled };
}

/**
 * Makes `primary` commit only once one of `standbys` has the commit (as the inventory docs ask of a primary), writes a
 * first row, and waits until every standby has it: the cluster the stale-primary tests start from.
 */
export async function protectAndSeed(primary: PostgresServer, standbys: readonly PostgresServer[]): Promise<void> {
  const names = standbys.map((standby) => `"${standby.name}"`).join(', ');
  await primary.query(`ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (${names})'`);
  await primary.query('SELECT pg_reload_conf()');
  await primary.query("INSERT INTO notes (note) VALUES ('before')");
  await Promise.all(standbys.map((standby) => caughtUp(primary, standby)));
}
