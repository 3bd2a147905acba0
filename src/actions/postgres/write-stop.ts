import { transientError } from '../../core/action.js';
import type { InventoryMember } from '../../inventory/inventory.js';
import { sleep } from '../../util/sleep.js';
import { writeRefused } from './apply.js';
import { walPosition } from './lsn.js';
import { changeFailed } from './pg-errors.js';
import { closeClient, connect, waitUntil, withMember, type PostgresSession } from './session.js';

/*
 * What postgres.switchover adds to the changes of apply.ts: where the primary's WAL ends once its writes are stopped
 * (the fence of apply.ts), waiting for a standby to replay up to there, and lifting the stop when the switch is
 * given up.
 */

/** How often the catch-up is polled: every poll is time the writes stay stopped. */
const replayPollMs = 10;

/** A WAL position as PostgreSQL shows it and as a byte count. */
export interface WalPoint {
  lsn: string;
  position: bigint;
}

/**
 * Where `primary`'s WAL is flushed to. With `checkpoint`, a CHECKPOINT first: it flushes every record inserted
 * before it (commits acknowledged with synchronous_commit = off included), so nothing acknowledged lies beyond.
 */
export async function flushedWal(
  session: PostgresSession,
  primary: InventoryMember,
  options: { checkpoint: boolean; timeoutMs: number },
): Promise<WalPoint> {
  try {
    return await withMember(
      session,
      primary,
      async (client) => {
        if (options.checkpoint) await client.query('CHECKPOINT');
        const { rows } = await client.query<{ lsn: string; position: string }>(
          "SELECT pg_current_wal_flush_lsn()::text AS lsn, pg_wal_lsn_diff(pg_current_wal_flush_lsn(), '0/0')::text AS position",
        );
        const row = rows[0];
        if (!row) throw new Error('no WAL position returned');
        return { lsn: row.lsn, position: walPosition(row.position) ?? 0n };
      },
      options.timeoutMs,
    );
  } catch (error) {
    if (session.signal.aborted) throw error;
    throw changeFailed(primary, options.checkpoint ? 'CHECKPOINT' : 'reading the WAL flush position', error);
  }
}

/** A CHECKPOINT on `primary`, before its writes stop: the one taken while they are stopped then has little to write. */
export async function checkpoint(session: PostgresSession, primary: InventoryMember, timeoutMs: number): Promise<void> {
  await flushedWal(session, primary, { checkpoint: true, timeoutMs });
}

/**
 * Waits, on one connection polled every few milliseconds, until `standby` has replayed up to `target`; false when
 * `timeoutMs` passes first. Returns the position replayed last seen.
 */
export async function waitForReplay(
  session: PostgresSession,
  standby: InventoryMember,
  target: bigint,
  timeoutMs: number,
): Promise<{ ok: boolean; replayed: bigint | undefined; lastError: string | undefined }> {
  const deadline = Date.now() + timeoutMs;
  let replayed: bigint | undefined;
  let lastError: string | undefined;
  while (Date.now() < deadline) {
    try {
      const client = await connect(session, standby, Math.max(1000, deadline - Date.now()));
      try {
        while (Date.now() < deadline) {
          const { rows } = await client.query<{ position: string | null }>(
            "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::text AS position",
          );
          replayed = walPosition(rows[0]?.position ?? null);
          if (replayed !== undefined && replayed >= target) return { ok: true, replayed, lastError: undefined };
          await sleep(replayPollMs, session.signal);
        }
      } finally {
        await closeClient(session, client);
      }
    } catch (error) {
      if (session.signal.aborted) throw session.signal.reason as Error;
      lastError = error instanceof Error ? error.message : String(error);
      await sleep(replayPollMs * 10, session.signal);
    }
  }
  return { ok: false, replayed, lastError };
}

/**
 * Lifts a write stop (the fence): new transactions are writable again (ALTER SYSTEM RESET, reload), and a fresh
 * session must be able to write before it counts as done.
 */
export async function resumeWrites(session: PostgresSession, primary: InventoryMember): Promise<void> {
  try {
    await withMember(session, primary, async (client) => {
      await client.query('ALTER SYSTEM RESET default_transaction_read_only');
      await client.query('SELECT pg_reload_conf()');
    });
  } catch (error) {
    if (session.signal.aborted) throw error;
    throw changeFailed(primary, 'lifting the write stop (ALTER SYSTEM RESET default_transaction_read_only)', error);
  }
  const writable = await waitUntil(session, async () => !(await writeRefused(session, primary)));
  if (!writable.ok)
    throw transientError(
      `lifted the write stop on ${primary.name} but a new session still cannot write${writable.lastError ? `: ${writable.lastError}` : ''}`,
    );
  session.logger.warn({ member: primary.name }, 'postgres.switchover: writes resumed on the primary');
}
