import type { PostgresServer } from '../../helpers/postgres.js';

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
