import { Socket } from 'node:net';
import pg from 'pg';
import type { InventoryCluster, InventoryMember } from '../inventory/inventory.js';
import type { ClusterCollector } from './collector.js';
import type { MemberRole, Sample } from './metric-catalogue.js';

/** What one member answered. Positions are bytes since 0/0: a primary's current LSN, a standby's replay LSN. */
interface MemberState {
  primary: boolean;
  /** A primary that refuses writes by default (default_transaction_read_only = on): how postgres.promote fences one. */
  readOnly: boolean;
  position: bigint;
  /** A standby's last received LSN (null when it never streamed since it started). */
  received: bigint | null;
  receiverStatus: string | null;
  lagSeconds: number | null;
}

interface StateRow {
  recovery: boolean;
  read_only: string;
  position: string;
  received: string | null;
  receiver_status: string | null;
  lag_seconds: number | null;
}

// pg_current_wal_lsn() fails during recovery: CASE keeps it to primaries. The replay delay only means something
// while WAL waits to be replayed; a caught-up standby on an idle primary would otherwise look ever more behind.
const stateQuery = `
  SELECT pg_is_in_recovery() AS recovery,
         current_setting('default_transaction_read_only') AS read_only,
         pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, '0/0')::text AS position,
         pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0')::text AS received,
         (SELECT status FROM pg_stat_wal_receiver) AS receiver_status,
         CASE WHEN NOT pg_is_in_recovery() THEN NULL
              WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
              ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
         END::float8 AS lag_seconds`;

/**
 * PostgreSQL primary/standby clusters: role from pg_is_in_recovery() (and `fenced` for a read-only primary); for a standby, link up while its WAL
 * receiver streams, bytes of WAL behind the primary's current LSN (behind the freshest standby's received WAL when
 * no primary answers) and replay delay in seconds. The inventory user needs pg_monitor to see the WAL receiver.
 */
export function createPostgresCollector(): ClusterCollector {
  return {
    begin(cluster) {
      const states = new Map<string, MemberState>();
      return {
        async probe(member, signal) {
          const state = await readState(cluster, member, signal);
          states.set(member.name, state);
          const samples: Sample[] = [{ metric: 'remediator_member_up', labels: { role: roleOf(state) }, value: 1 }];
          if (state.primary) return samples;
          samples.push({ metric: 'remediator_replication_link_up', labels: {}, value: state.receiverStatus === 'streaming' ? 1 : 0 });
          if (state.lagSeconds !== null)
            samples.push({ metric: 'remediator_replication_lag_seconds', labels: {}, value: Math.max(0, state.lagSeconds) });
          return samples;
        },
        finish(answered) {
          const live = [...states].filter(([name]) => answered.has(name));
          // A fenced old primary's WAL is a timeline nobody follows any more: no measure for the standbys.
          const primaries = live.filter(([, state]) => state.primary && !state.readOnly).map(([, state]) => state.position);
          const standbys = live.filter(([, state]) => !state.primary);
          const reference =
            primaries.length > 0
              ? primaries.reduce(max)
              : standbys
                  .map(([, state]) => (state.received === null ? state.position : max(state.received, state.position)))
                  .reduce(max, 0n);
          // Read moments apart, a standby can look ahead of a busy primary: that is no lag, not negative lag.
          return standbys.map(([name, state]) => ({
            metric: 'remediator_replication_lag_bytes',
            labels: { instance: name },
            value: Number(max(0n, reference - state.position)),
          }));
        },
      };
    },
  };
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);

/**
 * A standby is a replica; a primary fenced read-only (a stale primary postgres.promote fenced) is `fenced`: it
 * answers as no standby, but takes no writes either, so it is neither a second primary (MultiplePrimaries, the
 * reconcile loop) nor the primary whose death fails the cluster over (PrimaryUnreachable).
 */
function roleOf(state: MemberState): MemberRole {
  if (!state.primary) return 'replica';
  return state.readOnly ? 'fenced' : 'primary';
}
const bytes = (text: string) => BigInt(text.split('.')[0] ?? '0');

/** One query on a connection of its own; aborting destroys the socket, which fails a connect or query in flight. */
async function readState(cluster: InventoryCluster, member: InventoryMember, signal: AbortSignal): Promise<MemberState> {
  signal.throwIfAborted();
  // pg cannot abort a connect by itself (ending a client that is still connecting leaves the socket open): own the socket.
  const socket = new Socket();
  const client = new pg.Client({
    stream: () => socket,
    host: member.host,
    port: member.port,
    user: cluster.username ?? 'postgres',
    database: cluster.database ?? 'postgres',
    ...(cluster.password === undefined ? {} : { password: cluster.password }),
    application_name: 'remediator-exporter',
  });
  client.on('error', () => undefined);
  const onAbort = () => {
    socket.destroy();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
    const { rows } = await client.query<StateRow>(stateQuery);
    const row = rows[0];
    if (!row) throw new Error('the state query returned no row');
    // A polite goodbye keeps the server log free of "unexpected EOF"; the abort still cuts it short.
    await client.end().catch(() => undefined);
    return {
      primary: !row.recovery,
      readOnly: row.read_only === 'on',
      position: bytes(row.position),
      received: row.received === null ? null : bytes(row.received),
      receiverStatus: row.receiver_status,
      lagSeconds: row.lag_seconds,
    };
  } finally {
    signal.removeEventListener('abort', onAbort);
    socket.destroy();
  }
}
