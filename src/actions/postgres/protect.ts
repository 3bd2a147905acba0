import pg from 'pg';
import type { InventoryMember } from '../../inventory/inventory.js';
import { changeFailed, messageOf } from './pg-errors.js';
import { waitUntil, withMember, type PostgresSession } from './session.js';

/*
 * Stale-primary protection. remediator cannot reach a dead primary to fence it, and nothing stops it from starting
 * again as a primary (PostgreSQL has no leader key to consult, unlike a Patroni node, which demotes itself when it
 * loses its key). What stops it from acknowledging writes is synchronous replication: a primary that must hear from
 * a standby before a commit returns cannot acknowledge anything once its standbys follow someone else, whether it
 * is cut off (isolate-primary) or comes back after a crash. The commit waits until the fence (apply.ts: read-only,
 * sessions ended) releases the client with an error. So the promoted standby is made such a primary.
 */

/** What postgres.promote did to protect the primary it promoted, for the step's output. */
export interface Protection {
  /** The primary's synchronous_standby_names after the step ('' : unprotected). */
  synchronousStandbyNames: string;
  /** Whether remediator set it. */
  set: boolean;
  synchronousCommit: string;
  /** Why the primary may still acknowledge writes alone. */
  warning?: string;
}

/** A standby name in synchronous_standby_names: always double-quoted (member names have hyphens). */
const quoteName = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** `ANY 1 (…)` over `names`, deduplicated, in order. Pure. */
export function synchronousStandbyNames(names: readonly string[]): string {
  return `ANY 1 (${[...new Set(names)].map(quoteName).join(', ')})`;
}

/**
 * Makes `primary` wait for one standby at commit (synchronous_standby_names = ANY 1 of the standbys streaming from
 * it and of the other members, by name), unless it already names some. Not when no standby streams from it: every
 * commit would wait, an outage remediator must not cause; the output then says the primary is unprotected.
 */
export async function protectPrimary(
  session: PostgresSession,
  primary: InventoryMember,
  others: readonly InventoryMember[],
): Promise<Protection> {
  const current = await withMember(session, primary, async (client) => {
    const { rows } = await client.query<{ names: string; commit: string; streaming: string[] }>(
      `SELECT current_setting('synchronous_standby_names') AS names, current_setting('synchronous_commit') AS commit,
              ARRAY(SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY application_name) AS streaming`,
    );
    return rows[0] ?? { names: '', commit: 'on', streaming: [] };
  });
  const weak = ['off', 'local'].includes(current.commit)
    ? { warning: `synchronous_commit is ${current.commit}: commits do not wait for a standby` }
    : {};
  if (current.names.trim() !== '')
    return { synchronousStandbyNames: current.names, set: false, synchronousCommit: current.commit, ...weak };
  if (current.streaming.length === 0) {
    const warning = `no standby streams from ${primary.name}: synchronous_standby_names left empty (every commit would wait), so it is unprotected should it be cut off or return stale later`;
    session.logger.warn({ member: primary.name }, `postgres.promote: ${warning}`);
    return { synchronousStandbyNames: '', set: false, synchronousCommit: current.commit, warning };
  }
  const names = synchronousStandbyNames([...current.streaming, ...others.map((member) => member.name)]);
  try {
    await withMember(session, primary, async (client) => {
      await client.query(`ALTER SYSTEM SET synchronous_standby_names = ${pg.escapeLiteral(names)}`);
      await client.query('SELECT pg_reload_conf()');
    });
  } catch (error) {
    if (session.signal.aborted) throw error;
    throw changeFailed(primary, 'setting synchronous_standby_names', error);
  }
  // The reload is asynchronous: the output says protected only once a standby counts as synchronous.
  const took = await waitUntil(session, () =>
    withMember(session, primary, async (client) => {
      const { rows } = await client.query<{ synchronous: number }>(
        "SELECT count(*)::int AS synchronous FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')",
      );
      return (rows[0]?.synchronous ?? 0) > 0;
    }),
  );
  const warning = took.ok ? weak.warning : `no standby became synchronous${took.lastError ? `: ${messageOf(took.lastError)}` : ''}`;
  session.logger.warn(
    { member: primary.name, synchronousStandbyNames: names },
    'postgres.promote: the new primary commits only with a standby',
  );
  return { synchronousStandbyNames: names, set: true, synchronousCommit: current.commit, ...(warning === undefined ? {} : { warning }) };
}
