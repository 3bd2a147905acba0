import type pg from 'pg';
import type { InventoryMember } from '../../inventory/inventory.js';
import { conninfoEndpoints, type Endpoint } from './conninfo.js';
import { createMemberLocator } from './endpoints.js';
import { maxPosition, timelineOfWalFile, walPosition } from './lsn.js';
import type { MemberLocator, PostgresMemberState } from './member-state.js';
import { isPermanentSqlState, messageOf, sqlState } from './pg-errors.js';
import { closeClient, connect, type PostgresSession } from './session.js';

/**
 * Every member's state, and a locator for every endpoint the standbys name (their upstream, the hosts in their
 * primary_conninfo): all the plan needs, gathered up front.
 */
export async function probeCluster(session: PostgresSession): Promise<{ states: PostgresMemberState[]; locate: MemberLocator }> {
  const states = await Promise.all(session.cluster.members.map((member) => probeMember(session, member)));
  const endpoints: Endpoint[] = [];
  for (const state of states) {
    if (state.role !== 'standby') continue;
    if (state.streamingFrom) endpoints.push(state.streamingFrom);
    endpoints.push(...conninfoEndpoints(state.conninfo));
  }
  return { states, locate: await createMemberLocator(session, endpoints) };
}

/** What `member` answers about itself; a member that cannot be asked is down or unknown, never an error. */
export async function probeMember(session: PostgresSession, member: InventoryMember): Promise<PostgresMemberState> {
  let client: pg.Client;
  try {
    client = await connect(session, member);
  } catch (error) {
    if (session.signal.aborted) throw session.signal.reason as Error;
    const state = sqlState(error);
    // No answer at all (refused, timed out, unresolvable): down. An answer that refuses us: alive, state unknown.
    if (state === undefined) return { member, role: 'down', error: messageOf(error) };
    return { member, role: 'unknown', error: messageOf(error), permanent: isPermanentSqlState(state) };
  }
  try {
    const recovery = await client.query<{ recovery: boolean; read_only: string }>(
      "SELECT pg_is_in_recovery() AS recovery, current_setting('default_transaction_read_only') AS read_only",
    );
    const first = recovery.rows[0];
    if (!first) throw new Error('pg_is_in_recovery() returned no row');
    if (!first.recovery) {
      const { rows } = await client.query<{
        lsn: string;
        position: string;
        walfile: string;
        checkpoint_timeline: number | null;
        standbys: number;
      }>(
        `SELECT pg_current_wal_lsn()::text AS lsn,
                pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS position,
                pg_walfile_name(pg_current_wal_lsn()) AS walfile,
                (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_timeline,
                (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming')::int AS standbys`,
      );
      const row = rows[0];
      if (!row) throw new Error('no WAL position returned');
      // The WAL file name carries the current timeline at once; pg_control_checkpoint() only after the next checkpoint.
      const timeline = Math.max(timelineOfWalFile(row.walfile), row.checkpoint_timeline ?? 0);
      return {
        member,
        role: 'primary',
        lsn: row.lsn,
        position: walPosition(row.position) ?? 0n,
        timeline,
        readOnly: first.read_only === 'on',
        streamingStandbys: row.standbys,
      };
    }
    const { rows } = await client.query<{
      receive_lsn: string | null;
      receive_position: string | null;
      replay_lsn: string | null;
      replay_position: string | null;
      paused: boolean;
      conninfo: string;
      slot_name: string;
      checkpoint_timeline: number | null;
      received_tli: number | null;
      status: string | null;
      sender_host: string | null;
      sender_port: number | null;
    }>(
      `SELECT pg_last_wal_receive_lsn()::text AS receive_lsn,
              pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0')::text AS receive_position,
              pg_last_wal_replay_lsn()::text AS replay_lsn,
              pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::text AS replay_position,
              pg_is_wal_replay_paused() AS paused,
              current_setting('primary_conninfo') AS conninfo,
              current_setting('primary_slot_name') AS slot_name,
              (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_timeline,
              receiver.received_tli, receiver.status, receiver.sender_host, receiver.sender_port
         FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS receiver ON true`,
    );
    const row = rows[0];
    if (!row) throw new Error('no WAL positions returned');
    const replayed = walPosition(row.replay_position) ?? 0n;
    const streaming = row.status === 'streaming' && row.sender_host !== null && row.sender_port !== null;
    return {
      member,
      role: 'standby',
      receiveLsn: row.receive_lsn ?? undefined,
      replayLsn: row.replay_lsn ?? '0/0',
      received: maxPosition(walPosition(row.receive_position) ?? replayed, replayed),
      replayed,
      paused: row.paused,
      conninfo: row.conninfo,
      slotName: row.slot_name,
      streamingFrom: streaming ? { host: row.sender_host ?? '', port: row.sender_port ?? 0 } : undefined,
      timeline: row.received_tli ?? row.checkpoint_timeline ?? 0,
    };
  } catch (error) {
    if (session.signal.aborted) throw session.signal.reason as Error;
    return { member, role: 'unknown', error: messageOf(error), permanent: isPermanentSqlState(sqlState(error)) };
  } finally {
    await closeClient(session, client);
  }
}
