import { Socket } from 'node:net';
import type { Logger } from 'pino';
import pg from 'pg';
import type { InventoryCluster, InventoryMember } from '../../inventory/inventory.js';
import { sleep } from '../../util/sleep.js';
import { messageOf } from './pg-errors.js';

/** How long repointed standbys get to stream from the new primary, and a fenced primary to refuse writes. */
export const verifyTimeoutMs = 30_000;
const pollIntervalMs = 250;

/** One run of postgres.promote against one cluster: its settings, and every connection it still has open. */
export interface PostgresSession {
  cluster: InventoryCluster;
  /** Per member connection; a member that does not answer within it counts as down. */
  connectTimeout: number;
  signal: AbortSignal;
  logger: Logger;
  /** Every connection still open, with its socket (ending a client that is still connecting does not close it). */
  open: Map<pg.Client, Socket>;
  /** Host name → its addresses, looked up once per run. */
  resolved: Map<string, Promise<Set<string>>>;
}

/** A session on `cluster`; an abort destroys every open connection, failing whatever connect or query is in flight. */
export function createPostgresSession(options: {
  cluster: InventoryCluster;
  connectTimeout: number;
  signal: AbortSignal;
  logger: Logger;
}): PostgresSession & { close(): Promise<void> } {
  const onAbort = () => {
    for (const socket of session.open.values()) socket.destroy();
  };
  const session = {
    ...options,
    open: new Map<pg.Client, Socket>(),
    resolved: new Map<string, Promise<Set<string>>>(),
    async close() {
      options.signal.removeEventListener('abort', onAbort);
      await Promise.all([...session.open.keys()].map((client) => closeClient(session, client)));
    },
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  return session;
}

/** A new connection to `member` with the cluster's credentials, tracked until closed. */
export async function connect(session: PostgresSession, member: InventoryMember, queryTimeoutMs?: number): Promise<pg.Client> {
  session.signal.throwIfAborted();
  const socket = new Socket();
  const client = new pg.Client({
    stream: () => socket,
    host: member.host,
    port: member.port,
    user: session.cluster.username ?? 'postgres',
    database: session.cluster.database ?? 'postgres',
    ...(session.cluster.password === undefined ? {} : { password: session.cluster.password }),
    connectionTimeoutMillis: session.connectTimeout,
    query_timeout: queryTimeoutMs ?? Math.max(10_000, session.connectTimeout * 2),
    application_name: 'remediator',
  });
  // A server that goes away (or a backend terminated by a fence) emits 'error' on an idle client.
  client.on('error', () => undefined);
  session.open.set(client, socket);
  try {
    await client.connect();
  } catch (error) {
    await closeClient(session, client);
    throw error;
  }
  return client;
}

/** Ends a connection: gracefully when it can, at once when connecting or aborted. */
export async function closeClient(session: PostgresSession, client: pg.Client): Promise<void> {
  const socket = session.open.get(client);
  session.open.delete(client);
  if (session.signal.aborted || socket?.connecting === true) {
    socket?.destroy();
    return;
  }
  // A graceful goodbye, bounded: a server that stopped reading must not keep the socket open.
  const timer = setTimeout(() => socket?.destroy(), 1000);
  await client.end().catch(() => undefined);
  clearTimeout(timer);
  socket?.destroy();
}

/** Ends a connection at once, without a goodbye: for a server that stopped answering. */
export function dropClient(session: PostgresSession, client: pg.Client): void {
  session.open.get(client)?.destroy();
  session.open.delete(client);
}

/** Runs `work` on a fresh connection to `member`, always closing it; an abort surfaces as the signal's reason. */
export async function withMember<T>(
  session: PostgresSession,
  member: InventoryMember,
  work: (client: pg.Client) => Promise<T>,
  queryTimeoutMs?: number,
): Promise<T> {
  let client: pg.Client | undefined;
  try {
    client = await connect(session, member, queryTimeoutMs);
    return await work(client);
  } catch (error) {
    if (session.signal.aborted) throw session.signal.reason as Error;
    throw error;
  } finally {
    if (client) await closeClient(session, client);
  }
}

/** Polls `check` until it returns true or the verification time is up. */
export async function waitUntil(
  session: PostgresSession,
  check: () => Promise<boolean>,
  timeoutMs = verifyTimeoutMs,
): Promise<{ ok: boolean; lastError: string | undefined }> {
  const deadline = Date.now() + timeoutMs;
  let lastError: string | undefined;
  for (;;) {
    try {
      if (await check()) return { ok: true, lastError: undefined };
      lastError = undefined;
    } catch (error) {
      if (session.signal.aborted) throw session.signal.reason as Error;
      lastError = messageOf(error);
    }
    if (Date.now() >= deadline) return { ok: false, lastError };
    await sleep(pollIntervalMs, session.signal);
  }
}
