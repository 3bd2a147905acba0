import pg from 'pg';
import { transientError } from '../../core/action.js';
import type { InventoryMember } from '../../inventory/inventory.js';
import { sleep } from '../../util/sleep.js';
import { isMember } from './endpoints.js';
import { parseTimelineHistory, timelineHistoryFile, timelineOfWalFile } from './lsn.js';
import type { PrimaryState, StandbyState } from './member-state.js';
import { changeFailed, messageOf, sqlState } from './pg-errors.js';
import type { FollowerPlan } from './plan.js';
import { repointedConninfo } from './conninfo.js';
import { verifyTimeoutMs, waitUntil, withMember, type PostgresSession } from './session.js';

/*
 * The changes postgres.promote makes, each checked before it counts as done: promoting a standby, fencing a stale
 * primary, repointing a standby, then verifying that every repointed standby streams from the primary.
 */

const promotePollMs = 10;

/** Promotes `candidate` (pg_promote, waiting up to promoteTimeout) and returns the timeline it answers on as primary. */
export async function promoteStandby(session: PostgresSession, candidate: StandbyState, promoteTimeout: number): Promise<number> {
  session.signal.throwIfAborted();
  const waitSeconds = Math.max(1, Math.ceil(promoteTimeout / 1000));
  session.logger.warn({ member: candidate.member.name, replayed: candidate.replayLsn }, 'postgres.promote: promoting standby');
  let done: boolean;
  try {
    done = await withMember(
      session,
      candidate.member,
      async (client) => {
        // A fence left by an earlier failover must not make the new primary read-only.
        await client.query('ALTER SYSTEM RESET default_transaction_read_only');
        await client.query('SELECT pg_reload_conf()');
        // Not pg_promote(true): it looks every 100 ms, time a switchover's writes stay stopped; this looks every 10 ms.
        const { rows } = await client.query<{ signalled: boolean }>('SELECT pg_promote(false) AS signalled');
        if (rows[0]?.signalled !== true) return false;
        const deadline = Date.now() + waitSeconds * 1000;
        while (Date.now() < deadline) {
          const { rows: state } = await client.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
          if (state[0]?.recovery === false) return true;
          await sleep(promotePollMs, session.signal);
        }
        return false;
      },
      promoteTimeout + session.connectTimeout + 10_000,
    );
  } catch (error) {
    if (session.signal.aborted) throw error;
    throw changeFailed(candidate.member, 'promotion (pg_promote)', error);
  }
  if (!done) throw transientError(`${candidate.member.name} did not finish promotion within ${waitSeconds}s`);
  const target = candidate.member;
  let timeline = 0;
  const answered = await waitUntil(session, () =>
    withMember(session, target, async (client) => {
      const { rows } = await client.query<{ recovery: boolean; walfile: string | null }>(
        'SELECT pg_is_in_recovery() AS recovery, CASE WHEN NOT pg_is_in_recovery() THEN pg_walfile_name(pg_current_wal_lsn()) END AS walfile',
      );
      const row = rows[0];
      if (row?.recovery !== false || row.walfile === null) return false;
      timeline = timelineOfWalFile(row.walfile);
      return true;
    }),
  );
  if (!answered.ok)
    throw transientError(
      `${target.name} was promoted but does not answer as primary${answered.lastError ? `: ${answered.lastError}` : ''}`,
    );
  return timeline;
}

/** Fences the stale primaries (stale ones first: every moment one accepts writes is a moment of split brain). */
export async function fenceStale(session: PostgresSession, stale: readonly PrimaryState[]): Promise<string[]> {
  const fenced: string[] = [];
  for (const primary of stale) {
    // Already fenced (by an earlier run): only checked, so a rerun changes nothing.
    if (primary.readOnly && (await writeRefused(session, primary.member))) continue;
    await fence(session, primary.member);
    fenced.push(primary.member.name);
  }
  return fenced;
}

/** Repoints the planned standbys to `target`; returns those whose primary_conninfo changed and those resumed. */
export async function repointStandbys(
  session: PostgresSession,
  target: InventoryMember,
  repoints: FollowerPlan['repoint'],
): Promise<{ repointed: string[]; resumed: string[] }> {
  const repointed: string[] = [];
  const resumed: string[] = [];
  for (const { standby, rewrite } of repoints) {
    const result = await repoint(session, standby, target, rewrite);
    if (result.repointed) repointed.push(standby.member.name);
    if (result.resumed) resumed.push(standby.member.name);
    if (rewrite) session.logger.warn({ member: standby.member.name, primary: target.name }, 'postgres.promote: repointed standby');
  }
  return { repointed, resumed };
}

/** Waits until `target` answers as primary and every repointed standby streams from it. */
export async function verifyFollowing(session: PostgresSession, target: InventoryMember, repoints: FollowerPlan['repoint']): Promise<void> {
  const targetState = await waitUntil(session, () =>
    withMember(session, target, async (client) => {
      const { rows } = await client.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
      return rows[0]?.recovery === false;
    }),
  );
  if (!targetState.ok)
    throw transientError(`${target.name} does not answer as primary${targetState.lastError ? `: ${targetState.lastError}` : ''}`);
  const lagging: string[] = [];
  await Promise.all(
    repoints.map(async ({ standby }) => {
      const streaming = await waitUntil(session, () =>
        withMember(session, standby.member, async (client) => {
          const { rows } = await client.query<{ sender_host: string | null; sender_port: number | null }>(
            "SELECT sender_host, sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'",
          );
          const row = rows[0];
          if (!row || row.sender_host === null || row.sender_port === null) return false;
          return isMember(session, { host: row.sender_host, port: row.sender_port }, target);
        }),
      );
      if (!streaming.ok) lagging.push(`${standby.member.name}${streaming.lastError ? ` (${streaming.lastError})` : ''}`);
    }),
  );
  if (lagging.length > 0) {
    throw transientError(
      `${lagging.join(', ')} did not start streaming from ${target.name} within ${verifyTimeoutMs / 1000}s (see the standby's log)`,
    );
  }
}

/** True when a write on a fresh session of `member` is refused as read-only (nothing is kept either way). */
export async function writeRefused(session: PostgresSession, member: InventoryMember): Promise<boolean> {
  return withMember(session, member, async (client) => {
    await client.query('BEGIN');
    try {
      await client.query('CREATE TEMP TABLE remediator_fence_check (id int)');
      return false;
    } catch (error) {
      if (sqlState(error) === '25006') return true; // read_only_sql_transaction
      throw error;
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
    }
  });
}

/**
 * Fences a primary that must not take writes any more: every new transaction is read-only (persisted with
 * ALTER SYSTEM, so it survives a restart), then its client sessions are ended, then a write is tried and must fail.
 */
export async function fence(
  session: PostgresSession,
  member: InventoryMember,
  logMessage = 'postgres.promote: fenced a stale primary (default_transaction_read_only = on)',
): Promise<void> {
  session.signal.throwIfAborted();
  try {
    await withMember(session, member, async (client) => {
      await client.query('ALTER SYSTEM SET default_transaction_read_only = on');
      await client.query('SELECT pg_reload_conf()');
    });
  } catch (error) {
    if (session.signal.aborted) throw error;
    throw changeFailed(member, 'fencing (ALTER SYSTEM SET default_transaction_read_only)', error);
  }
  // The reload is asynchronous: sessions started before the postmaster re-read its configuration may still write.
  const reloaded = await waitUntil(session, () => writeRefused(session, member));
  if (!reloaded.ok)
    throw transientError(`fenced ${member.name} but a new session can still write${reloaded.lastError ? `: ${reloaded.lastError}` : ''}`);
  let terminated: number;
  try {
    terminated = await withMember(session, member, async (client) => {
      const { rows } = await client.query<{ terminated: number }>(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS terminated
           FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      return rows[0]?.terminated ?? 0;
    });
  } catch (error) {
    if (session.signal.aborted) throw error;
    throw changeFailed(member, 'ending client sessions', error);
  }
  if (!(await writeRefused(session, member))) throw transientError(`fenced ${member.name} but a write was still accepted`);
  session.logger.warn({ member: member.name, terminatedSessions: terminated }, logMessage);
}

/** Ensures the physical replication slot a standby uses exists on its new upstream. */
async function ensureSlot(session: PostgresSession, target: InventoryMember, slotName: string): Promise<void> {
  try {
    await withMember(session, target, async (client) => {
      await client.query(
        `SELECT pg_create_physical_replication_slot($1, true)
          WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`,
        [slotName],
      );
    });
  } catch (error) {
    if (session.signal.aborted) throw error;
    if (sqlState(error) === '42710') return; // created concurrently
    throw changeFailed(target, `creating replication slot "${slotName}"`, error);
  }
}

/** Points a standby at `target`: its primary_conninfo is rewritten (host/port) and reloaded; replay resumed when paused. */
async function repoint(
  session: PostgresSession,
  standby: StandbyState,
  target: InventoryMember,
  rewrite: boolean,
): Promise<{ repointed: boolean; resumed: boolean }> {
  session.signal.throwIfAborted();
  if (rewrite && standby.slotName !== '') await ensureSlot(session, target, standby.slotName);
  try {
    return await withMember(session, standby.member, async (client) => {
      if (rewrite) {
        const conninfo = repointedConninfo(standby.conninfo, target, {
          user: session.cluster.username ?? 'postgres',
          password: session.cluster.password,
          applicationName: standby.member.name,
        });
        // ALTER SYSTEM takes no parameters: the value is a quoted literal (and each conninfo value is quoted inside it).
        await client.query(`ALTER SYSTEM SET primary_conninfo = ${pg.escapeLiteral(conninfo)}`);
        await client.query('SELECT pg_reload_conf()');
      }
      // A paused standby never switches to the new primary's timeline: its WAL receiver stays down until replay resumes.
      let resumed = false;
      if (standby.paused) {
        await client.query('SELECT pg_wal_replay_resume()');
        resumed = true;
      }
      return { repointed: rewrite, resumed };
    });
  } catch (error) {
    if (session.signal.aborted) throw error;
    throw changeFailed(standby.member, `repointing to ${target.name}`, error);
  }
}

/** The fork points of `timeline`'s ancestors, read from the primary's pg_wal; undefined when it cannot be read. */
export async function readTimelineHistory(
  session: PostgresSession,
  primary: InventoryMember,
  timeline: number,
): Promise<Map<number, bigint> | undefined> {
  if (timeline <= 1) return new Map();
  const file = timelineHistoryFile(timeline);
  try {
    return await withMember(session, primary, async (client) => {
      const { rows } = await client.query<{ history: string }>('SELECT pg_read_file($1) AS history', [file]);
      return parseTimelineHistory(rows[0]?.history ?? '');
    });
  } catch (error) {
    if (session.signal.aborted) throw error;
    session.logger.warn(
      { member: primary.name, error: messageOf(error) },
      'postgres.promote: cannot read the timeline history; diverged standbys are not detected',
    );
    return undefined;
  }
}
