import type pg from 'pg';
import type { DeathObserver } from '../confirm/confirm-death.js';
import type { WitnessObservation } from '../confirm/death-verdict.js';
import type { InventoryMember } from '../../inventory/inventory.js';
import { conninfoEndpoints, type Endpoint } from './conninfo.js';
import { isMember } from './endpoints.js';
import { messageOf, sqlState } from './pg-errors.js';
import { closeClient, connect, dropClient, type PostgresSession } from './session.js';
import { silentWitness, witnessOf, type WalReceiverReport } from './witness.js';
import { isConnectionRefused } from '../confirm/refused.js';

/**
 * How postgres.promote confirms that `primary` is dead (confirmDeath): remediator connects to it and asks
 * pg_is_in_recovery(); each other member is asked about its WAL receiver (witness.ts). Every question, connection
 * included, is bounded by `probeTimeout`: a SIGSTOP'd postmaster accepts TCP connections but never answers.
 */
export function createPostgresDeathObserver(
  session: PostgresSession,
  options: { primary: InventoryMember; witnesses: readonly InventoryMember[]; probeTimeout: number },
): DeathObserver {
  const { primary, witnesses, probeTimeout } = options;
  /** When each witness last heard from the primary (epoch ms, from its reported silence), across rounds. */
  const lastHeard = new Map<string, number>();
  return {
    primary: primary.name,
    async probePrimary() {
      try {
        const recovery = await askWithin(session, primary, probeTimeout, async (client) => {
          const { rows } = await client.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
          return rows[0]?.recovery;
        });
        return { answered: true, detail: recovery ? 'answered (in recovery)' : 'answered as primary' };
      } catch (error) {
        if (session.signal.aborted) throw session.signal.reason as Error;
        // An answer that refuses us (starting up, shutting down, bad credentials) is still a live postmaster.
        if (sqlState(error) !== undefined) return { answered: true, detail: `answered: ${messageOf(error)}` };
        return { answered: false, refused: isConnectionRefused(error), detail: `no answer: ${messageOf(error)}` };
      }
    },
    askWitnesses() {
      return Promise.all(witnesses.map((member) => askWitness(session, member, primary, probeTimeout, lastHeard)));
    },
  };
}

async function askWitness(
  session: PostgresSession,
  member: InventoryMember,
  primary: InventoryMember,
  timeoutMs: number,
  lastHeard: Map<string, number>,
): Promise<WitnessObservation> {
  let report: WalReceiverReport & { conninfo: string };
  try {
    report = await askWithin(session, member, timeoutMs, async (client) => {
      const { rows } = await client.query<{
        in_recovery: boolean;
        status: string | null;
        sender_host: string | null;
        sender_port: number | null;
        silent_ms: number | null;
        timeout_ms: number;
        conninfo: string;
      }>(
        `SELECT pg_is_in_recovery() AS in_recovery, receiver.status, receiver.sender_host, receiver.sender_port,
                (extract(epoch FROM clock_timestamp() - receiver.last_msg_receipt_time) * 1000)::float8 AS silent_ms,
                (SELECT setting::int FROM pg_settings WHERE name = 'wal_receiver_timeout') AS timeout_ms,
                current_setting('primary_conninfo') AS conninfo
           FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS receiver ON true`,
      );
      const row = rows[0];
      if (!row) throw new Error('no row returned');
      return {
        inRecovery: row.in_recovery,
        status: row.status,
        senderHost: row.sender_host,
        senderPort: row.sender_port,
        silentMs: row.silent_ms,
        walReceiverTimeoutMs: row.timeout_ms,
        conninfo: row.conninfo,
      };
    });
  } catch (error) {
    if (session.signal.aborted) throw session.signal.reason as Error;
    return silentWitness(member.name, messageOf(error));
  }
  // The receiver's sender is who it streams from now; without a receiver, whom it is configured to follow.
  const upstream: Endpoint[] =
    report.senderHost !== null && report.senderPort !== null
      ? [{ host: report.senderHost, port: report.senderPort }]
      : conninfoEndpoints(report.conninfo);
  const named = await Promise.all(upstream.map((endpoint) => isMember(session, endpoint, primary)));
  const now = Date.now();
  if (report.silentMs !== null) lastHeard.set(member.name, now - report.silentMs);
  const heard = lastHeard.get(member.name);
  return witnessOf(member.name, report, named.includes(true), heard === undefined ? undefined : now - heard);
}

/** Runs `work` on a new connection to `member`, the whole exchange bounded by `timeoutMs`; the connection is always closed. */
export async function askWithin<T>(
  session: PostgresSession,
  member: InventoryMember,
  timeoutMs: number,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const bounded: PostgresSession = { ...session, connectTimeout: timeoutMs };
  let client: pg.Client | undefined;
  // An object, not a let: the deadline's callback changes it behind the compiler's back.
  const state = { expired: false };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      state.expired = true;
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const exchange = (async () => {
    const connected = await connect(bounded, member, timeoutMs);
    // Connected after the deadline: nobody waits for it any more.
    if (state.expired) {
      dropClient(session, connected);
      throw new Error(`timed out after ${timeoutMs} ms`);
    }
    client = connected;
    return work(connected);
  })();
  try {
    return await Promise.race([exchange, deadline]);
  } finally {
    clearTimeout(timer);
    exchange.catch(() => undefined);
    if (client) {
      // A server that did not answer in time gets no goodbye (it would not read it either).
      if (state.expired) dropClient(session, client);
      else await closeClient(session, client);
    }
  }
}
