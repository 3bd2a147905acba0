import { lookup } from 'node:dns/promises';
import { isIP, Socket } from 'node:net';
import type { Logger } from 'pino';
import pg from 'pg';
import { z } from 'zod';
import type { Inventory, InventoryCluster, InventoryMember } from '../inventory/inventory.js';
import { durationSchema } from '../core/duration.js';
import { sleep } from '../util/sleep.js';
import { defineAction, permanentError, transientError, type StepOutput } from '../core/action.js';
import { checkClusterRef, resolveCluster } from './cluster-ref.js';

const positiveDuration = durationSchema.refine((ms) => ms > 0, 'must be more than 0');

const postgresPromoteSchema = z.strictObject({
  cluster: z.string().min(1),
  /** The freshest standby is not promoted when it would lose, or still has to replay, more WAL than this. */
  maxLagBytes: z.number().int().nonnegative().default(16 * 1024 * 1024), // 16 MiB
  /** Per member connection; a member that does not answer within it counts as down. */
  connectTimeout: positiveDuration.default(3000),
  /** How long pg_promote may take (replaying what the standby received, then switching timeline). */
  promoteTimeout: positiveDuration.default(60_000),
});

type PromoteParams = z.output<typeof postgresPromoteSchema>;

/** How long repointed standbys get to stream from the new primary, and a fenced primary to refuse writes. */
const verifyTimeoutMs = 30_000;
const pollIntervalMs = 250;

/** What one member answered, or why it could not be asked. */
export type PostgresMemberState =
  | { member: InventoryMember; role: 'down'; error: string }
  /** Answered but could not be probed (starting up, shutting down, refused our credentials): state unknown. */
  | { member: InventoryMember; role: 'unknown'; error: string; permanent: boolean }
  | {
      member: InventoryMember;
      role: 'primary';
      lsn: string;
      position: bigint;
      timeline: number;
      /** A fresh session starts read-only: fenced. */
      readOnly: boolean;
      streamingStandbys: number;
    }
  | {
      member: InventoryMember;
      role: 'standby';
      receiveLsn: string | undefined;
      replayLsn: string;
      /** WAL received from the upstream (the replay position when nothing was received since startup). */
      received: bigint;
      replayed: bigint;
      paused: boolean;
      conninfo: string;
      slotName: string;
      /** host:port the WAL receiver currently streams from (absent when it does not stream). */
      streamingFrom: { host: string; port: number } | undefined;
      /** The timeline it receives on (its last restartpoint's when no WAL receiver runs). */
      timeline: number;
    };

type PrimaryState = Extract<PostgresMemberState, { role: 'primary' }>;
type StandbyState = Extract<PostgresMemberState, { role: 'standby' }>;

// ---------------------------------------------------------------------------------------------------------
// libpq connection strings (primary_conninfo)

/** Parses a libpq connection string (key=value pairs or a postgres:// URI) into its keywords, in order. */
export function parseConninfo(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const trimmed = text.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    const url = new URL(trimmed.replace(/^postgres(ql)?:/i, 'http:'));
    if (url.username) result.set('user', decodeURIComponent(url.username));
    if (url.password) result.set('password', decodeURIComponent(url.password));
    if (url.hostname) result.set('host', decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1'));
    if (url.port) result.set('port', url.port);
    const dbname = decodeURIComponent(url.pathname.slice(1));
    if (dbname) result.set('dbname', dbname);
    for (const [key, value] of url.searchParams) result.set(key, value);
    return result;
  }
  let index = 0;
  const skipSpace = () => {
    while (index < text.length && /\s/.test(text.charAt(index))) index++;
  };
  for (;;) {
    skipSpace();
    if (index >= text.length) return result;
    const keyStart = index;
    while (index < text.length && !/[\s=]/.test(text.charAt(index))) index++;
    const key = text.slice(keyStart, index);
    skipSpace();
    if (text.charAt(index) !== '=') throw new Error(`missing "=" after "${key}" in connection info`);
    index++;
    skipSpace();
    let value = '';
    if (text.charAt(index) === "'") {
      index++;
      for (;;) {
        if (index >= text.length) throw new Error('unterminated quoted string in connection info');
        const char = text.charAt(index);
        if (char === "'") {
          index++;
          break;
        }
        if (char === '\\' && index + 1 < text.length) index++;
        value += text.charAt(index);
        index++;
      }
    } else {
      while (index < text.length && !/\s/.test(text.charAt(index))) {
        if (text.charAt(index) === '\\' && index + 1 < text.length) index++;
        value += text.charAt(index);
        index++;
      }
    }
    result.set(key, value);
  }
}

/** One connection-string value, always quoted: backslash and quote are escaped, so a value stays one value. */
export function quoteConninfoValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Serializes keywords into a connection string. */
export function formatConninfo(keywords: ReadonlyMap<string, string>): string {
  return [...keywords].map(([key, value]) => `${key}=${quoteConninfoValue(value)}`).join(' ');
}

/**
 * The primary_conninfo that points a standby at `target`: the standby's own settings (password, sslmode,
 * passfile, application_name used by synchronous_standby_names…) are kept; host and port are replaced.
 */
export function repointedConninfo(current: string, target: { host: string; port: number }, defaults: { user: string; password?: string | undefined; applicationName: string }): string {
  let keywords: Map<string, string>;
  try {
    keywords = parseConninfo(current);
  } catch {
    keywords = new Map();
  }
  keywords.delete('hostaddr');
  keywords.set('host', target.host);
  keywords.set('port', String(target.port));
  if (!keywords.has('user')) {
    keywords.set('user', defaults.user);
    if (defaults.password !== undefined && !keywords.has('password') && !keywords.has('passfile')) keywords.set('password', defaults.password);
  }
  if (!keywords.has('application_name')) keywords.set('application_name', defaults.applicationName);
  return formatConninfo(keywords);
}

/** The host:port pairs a connection string names (libpq allows comma-separated lists). */
function conninfoEndpoints(conninfo: string): { host: string; port: number }[] {
  let keywords: Map<string, string>;
  try {
    keywords = parseConninfo(conninfo);
  } catch {
    return [];
  }
  const hosts = (keywords.get('host') ?? keywords.get('hostaddr') ?? '').split(',').filter((host) => host !== '');
  const ports = (keywords.get('port') ?? '5432').split(',');
  return hosts.map((host, index) => ({ host, port: Number(ports.length === 1 ? ports[0] : ports[index]) || 5432 }));
}

// ---------------------------------------------------------------------------------------------------------
// helpers

function formatBytes(bytes: bigint): string {
  const value = Number(bytes);
  if (value < 1024) return `${value} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value / 1024;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return `${scaled.toFixed(1)} ${units[unit] ?? 'TiB'}`;
}

/** An LSN ("16/B374D848") as a byte position. */
export function lsnToBigInt(lsn: string): bigint | undefined {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!match) return undefined;
  return (BigInt(`0x${match[1] ?? '0'}`) << 32n) + BigInt(`0x${match[2] ?? '0'}`);
}

/** A timeline history file: for each ancestor timeline, the WAL position where it ended (the fork point). */
export function parseTimelineHistory(text: string): Map<number, bigint> {
  const forks = new Map<number, bigint>();
  for (const line of text.split('\n')) {
    const [timeline, switchpoint] = line.trim().split(/\s+/);
    if (timeline === undefined || switchpoint === undefined || !/^\d+$/.test(timeline)) continue;
    const position = lsnToBigInt(switchpoint);
    if (position !== undefined) forks.set(Number(timeline), position);
  }
  return forks;
}

const bigintOf = (text: string | null): bigint | undefined => (text === null ? undefined : BigInt(text.split('.')[0] ?? '0'));
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/** An SQLSTATE (five characters) on a server error; libpq/network errors carry errno codes instead. */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && error instanceof pg.DatabaseError ? code : undefined;
}

/** Errors retrying will not fix: credentials, privileges, a missing database or function (too old a server). */
function isPermanentSqlState(state: string | undefined): boolean {
  return state !== undefined && (state.startsWith('28') || state === '42501' || state === '3D000' || state === '42883');
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

// ---------------------------------------------------------------------------------------------------------

interface RunContext {
  cluster: InventoryCluster;
  params: PromoteParams;
  signal: AbortSignal;
  logger: Logger;
  /** Every connection still open, with its socket (ending a client that is still connecting does not close it). */
  open: Map<pg.Client, Socket>;
  resolved: Map<string, Promise<Set<string>>>;
}

async function connect(run: RunContext, member: InventoryMember, queryTimeoutMs?: number): Promise<pg.Client> {
  run.signal.throwIfAborted();
  const socket = new Socket();
  const client = new pg.Client({
    stream: () => socket,
    host: member.host,
    port: member.port,
    user: run.cluster.username ?? 'postgres',
    database: run.cluster.database ?? 'postgres',
    ...(run.cluster.password === undefined ? {} : { password: run.cluster.password }),
    connectionTimeoutMillis: run.params.connectTimeout,
    query_timeout: queryTimeoutMs ?? Math.max(10_000, run.params.connectTimeout * 2),
    application_name: 'remediator',
  });
  // A server that goes away (or a backend terminated by a fence) emits 'error' on an idle client.
  client.on('error', () => undefined);
  run.open.set(client, socket);
  try {
    await client.connect();
  } catch (error) {
    await close(run, client);
    throw error;
  }
  return client;
}

async function close(run: RunContext, client: pg.Client): Promise<void> {
  const socket = run.open.get(client);
  run.open.delete(client);
  if (run.signal.aborted || socket?.connecting === true) {
    socket?.destroy();
    return;
  }
  // A graceful goodbye, bounded: a server that stopped reading must not keep the socket open.
  const timer = setTimeout(() => socket?.destroy(), 1000);
  await client.end().catch(() => undefined);
  clearTimeout(timer);
  socket?.destroy();
}

/** Runs `work` on a fresh connection to `member`, always closing it; an abort surfaces as the signal's reason. */
async function withMember<T>(run: RunContext, member: InventoryMember, work: (client: pg.Client) => Promise<T>, queryTimeoutMs?: number): Promise<T> {
  let client: pg.Client | undefined;
  try {
    client = await connect(run, member, queryTimeoutMs);
    return await work(client);
  } catch (error) {
    if (run.signal.aborted) throw run.signal.reason as Error;
    throw error;
  } finally {
    if (client) await close(run, client);
  }
}

/** A failure of a change on `member`: permanent for credentials/privileges, otherwise transient. */
function changeFailed(member: InventoryMember, what: string, error: unknown): Error {
  const message = `${what} on ${member.name} (${member.address}) failed: ${messageOf(error)}`;
  return isPermanentSqlState(sqlState(error)) ? permanentError(message, error) : transientError(message, error);
}

async function probe(run: RunContext, member: InventoryMember): Promise<PostgresMemberState> {
  let client: pg.Client;
  try {
    client = await connect(run, member);
  } catch (error) {
    if (run.signal.aborted) throw run.signal.reason as Error;
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
      const { rows } = await client.query<{ lsn: string; position: string; walfile: string; checkpoint_timeline: number | null; standbys: number }>(
        `SELECT pg_current_wal_lsn()::text AS lsn,
                pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS position,
                pg_walfile_name(pg_current_wal_lsn()) AS walfile,
                (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_timeline,
                (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming')::int AS standbys`,
      );
      const row = rows[0];
      if (!row) throw new Error('no WAL position returned');
      // The WAL file name carries the current timeline at once; pg_control_checkpoint() only after the next checkpoint.
      const timeline = Math.max(Number.parseInt(row.walfile.slice(0, 8), 16), row.checkpoint_timeline ?? 0);
      return {
        member,
        role: 'primary',
        lsn: row.lsn,
        position: bigintOf(row.position) ?? 0n,
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
    const replayed = bigintOf(row.replay_position) ?? 0n;
    const streaming = row.status === 'streaming' && row.sender_host !== null && row.sender_port !== null;
    return {
      member,
      role: 'standby',
      receiveLsn: row.receive_lsn ?? undefined,
      replayLsn: row.replay_lsn ?? '0/0',
      received: max(bigintOf(row.receive_position) ?? replayed, replayed),
      replayed,
      paused: row.paused,
      conninfo: row.conninfo,
      slotName: row.slot_name,
      streamingFrom: streaming ? { host: row.sender_host ?? '', port: row.sender_port ?? 0 } : undefined,
      timeline: row.received_tli ?? row.checkpoint_timeline ?? 0,
    };
  } catch (error) {
    if (run.signal.aborted) throw run.signal.reason as Error;
    return { member, role: 'unknown', error: messageOf(error), permanent: isPermanentSqlState(sqlState(error)) };
  } finally {
    await close(run, client);
  }
}

/** The addresses a host name resolves to (an IP literal is itself), bounded by the connect timeout. */
function addressesOf(run: RunContext, host: string): Promise<Set<string>> {
  const key = host.toLowerCase();
  let found = run.resolved.get(key);
  if (!found) {
    if (isIP(host) !== 0) found = Promise.resolve(new Set([host]));
    else {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<Set<string>>((resolve) => {
        timer = setTimeout(() => { resolve(new Set()); }, run.params.connectTimeout);
      });
      found = Promise.race([lookup(host, { all: true }).then((entries) => new Set(entries.map((entry) => entry.address))), timedOut])
        .catch(() => new Set<string>())
        .finally(() => { clearTimeout(timer); });
    }
    run.resolved.set(key, found);
  }
  return found;
}

/** Whether host:port (as a standby sees its upstream) is `member`: same port and same host, by name or address. */
async function isMember(run: RunContext, endpoint: { host: string; port: number }, member: InventoryMember): Promise<boolean> {
  if (endpoint.port !== member.port || endpoint.host.startsWith('/')) return false;
  if (endpoint.host.toLowerCase() === member.host.toLowerCase()) return true;
  const [a, b] = await Promise.all([addressesOf(run, endpoint.host), addressesOf(run, member.host)]);
  return [...a].some((address) => b.has(address));
}

async function memberAt(run: RunContext, endpoint: { host: string; port: number }): Promise<InventoryMember | undefined> {
  for (const member of run.cluster.members) if (await isMember(run, endpoint, member)) return member;
  return undefined;
}

/** True when `state` streams from `target`, directly or through standbys that do (cascading replication). */
async function follows(run: RunContext, state: StandbyState, target: InventoryMember, standbys: ReadonlyMap<string, StandbyState>, seen = new Set<string>()): Promise<boolean> {
  if (!state.streamingFrom || seen.has(state.member.name)) return false;
  seen.add(state.member.name);
  const upstream = await memberAt(run, state.streamingFrom);
  if (!upstream) return false;
  if (upstream.name === target.name) return true;
  const through = standbys.get(upstream.name);
  return through !== undefined && follows(run, through, target, standbys, seen);
}

/** Polls `check` until it returns true or the verification time is up. */
async function waitUntil(run: RunContext, check: () => Promise<boolean>, timeoutMs = verifyTimeoutMs): Promise<{ ok: boolean; lastError: string | undefined }> {
  const deadline = Date.now() + timeoutMs;
  let lastError: string | undefined;
  for (;;) {
    try {
      if (await check()) return { ok: true, lastError: undefined };
      lastError = undefined;
    } catch (error) {
      if (run.signal.aborted) throw run.signal.reason as Error;
      lastError = messageOf(error);
    }
    if (Date.now() >= deadline) return { ok: false, lastError };
    await sleep(pollIntervalMs, run.signal);
  }
}

/** True when a write on a fresh session of `member` is refused as read-only (nothing is kept either way). */
async function writeRefused(run: RunContext, member: InventoryMember): Promise<boolean> {
  return withMember(run, member, async (client) => {
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
async function fence(run: RunContext, member: InventoryMember): Promise<void> {
  run.signal.throwIfAborted();
  try {
    await withMember(run, member, async (client) => {
      await client.query('ALTER SYSTEM SET default_transaction_read_only = on');
      await client.query('SELECT pg_reload_conf()');
    });
  } catch (error) {
    if (run.signal.aborted) throw error;
    throw changeFailed(member, 'fencing (ALTER SYSTEM SET default_transaction_read_only)', error);
  }
  // The reload is asynchronous: sessions started before the postmaster re-read its configuration may still write.
  const reloaded = await waitUntil(run, () => writeRefused(run, member));
  if (!reloaded.ok) throw transientError(`fenced ${member.name} but a new session can still write${reloaded.lastError ? `: ${reloaded.lastError}` : ''}`);
  let terminated: number;
  try {
    terminated = await withMember(run, member, async (client) => {
      const { rows } = await client.query<{ terminated: number }>(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS terminated
           FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      return rows[0]?.terminated ?? 0;
    });
  } catch (error) {
    if (run.signal.aborted) throw error;
    throw changeFailed(member, 'ending client sessions', error);
  }
  if (!(await writeRefused(run, member))) throw transientError(`fenced ${member.name} but a write was still accepted`);
  run.logger.warn({ member: member.name, terminatedSessions: terminated }, 'postgres.promote: fenced a stale primary (default_transaction_read_only = on)');
}

/** Ensures the physical replication slot a standby uses exists on its new upstream. */
async function ensureSlot(run: RunContext, target: InventoryMember, slotName: string): Promise<void> {
  try {
    await withMember(run, target, async (client) => {
      await client.query(
        `SELECT pg_create_physical_replication_slot($1, true)
          WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)`,
        [slotName],
      );
    });
  } catch (error) {
    if (run.signal.aborted) throw error;
    if (sqlState(error) === '42710') return; // created concurrently
    throw changeFailed(target, `creating replication slot "${slotName}"`, error);
  }
}

/** Points a standby at `target`: its primary_conninfo is rewritten (host/port) and reloaded; replay resumed when paused. */
async function repoint(run: RunContext, standby: StandbyState, target: InventoryMember, rewrite: boolean): Promise<{ repointed: boolean; resumed: boolean }> {
  run.signal.throwIfAborted();
  if (rewrite && standby.slotName !== '') await ensureSlot(run, target, standby.slotName);
  try {
    return await withMember(run, standby.member, async (client) => {
      if (rewrite) {
        const conninfo = repointedConninfo(standby.conninfo, target, {
          user: run.cluster.username ?? 'postgres',
          password: run.cluster.password,
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
    if (run.signal.aborted) throw error;
    throw changeFailed(standby.member, `repointing to ${target.name}`, error);
  }
}

/** The fork points of `timeline`'s ancestors, read from the primary's pg_wal; undefined when it cannot be read. */
async function timelineHistory(run: RunContext, primary: InventoryMember, timeline: number): Promise<Map<number, bigint> | undefined> {
  if (timeline <= 1) return new Map();
  const file = `pg_wal/${timeline.toString(16).toUpperCase().padStart(8, '0')}.history`;
  try {
    return await withMember(run, primary, async (client) => {
      const { rows } = await client.query<{ history: string }>('SELECT pg_read_file($1) AS history', [file]);
      return parseTimelineHistory(rows[0]?.history ?? '');
    });
  } catch (error) {
    if (run.signal.aborted) throw error;
    run.logger.warn({ member: primary.name, error: messageOf(error) }, 'postgres.promote: cannot read the timeline history; diverged standbys are not detected');
    return undefined;
  }
}

/**
 * True when `standby` holds WAL the primary (on `timeline`) does not: it received past the point where its own
 * timeline forked, or it is on another branch. Such a standby can never stream from that primary: it must be
 * rewound or rebuilt (and its extra WAL may matter to whoever decides).
 */
function hasDiverged(standby: StandbyState, timeline: number, history: ReadonlyMap<number, bigint> | undefined): boolean {
  if (history === undefined || standby.timeline === timeline) return false;
  if (standby.timeline > timeline) return true;
  const fork = history.get(standby.timeline);
  return fork === undefined || standby.received > fork;
}

/** Whose primary the standbys were following (from their primary_conninfo), by majority. */
async function previousPrimary(run: RunContext, standbys: readonly StandbyState[]): Promise<string | null> {
  const votes = new Map<string, number>();
  for (const standby of standbys) {
    for (const endpoint of conninfoEndpoints(standby.conninfo)) {
      const member = await memberAt(run, endpoint);
      if (member && member.name !== standby.member.name) votes.set(member.name, (votes.get(member.name) ?? 0) + 1);
    }
  }
  return [...votes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;
}

function describeCandidate(standby: StandbyState, bestKnown: bigint): string {
  return `${standby.member.name} (replayed ${standby.replayLsn}, ${formatBytes(standby.received - standby.replayed)} received but not replayed, ${formatBytes(bestKnown - standby.received)} behind the most advanced standby)`;
}

async function promote(run: RunContext, standbys: readonly StandbyState[]): Promise<StandbyState> {
  const ranked = [...standbys].sort((a, b) => (b.replayed > a.replayed ? 1 : b.replayed < a.replayed ? -1 : b.member.priority - a.member.priority || a.member.name.localeCompare(b.member.name)));
  const best = ranked[0];
  if (!best) throw transientError(`no reachable standby in postgres cluster "${run.cluster.name}" to promote`);
  const bestKnown = standbys.reduce((known, standby) => max(known, standby.received), 0n);
  const unreplayed = best.received - best.replayed;
  const behind = bestKnown - best.received;
  const limit = BigInt(run.params.maxLagBytes);
  if (unreplayed > limit || behind > limit) {
    const reason = unreplayed > limit
      ? `has ${formatBytes(unreplayed)} of WAL received but not replayed`
      : `is ${formatBytes(behind)} of WAL behind the most advanced standby`;
    throw permanentError(
      `refusing to promote in postgres cluster "${run.cluster.name}": the best candidate ${best.member.name} (highest replay position) ${reason} (maxLagBytes ${formatBytes(limit)}); candidates: ${ranked.map((standby) => describeCandidate(standby, bestKnown)).join('; ')}`,
    );
  }
  run.signal.throwIfAborted();
  const waitSeconds = Math.max(1, Math.ceil(run.params.promoteTimeout / 1000));
  run.logger.warn({ member: best.member.name, replayed: best.replayLsn }, 'postgres.promote: promoting standby');
  let done: boolean;
  try {
    done = await withMember(run, best.member, async (client) => {
      // A fence left by an earlier failover must not make the new primary read-only.
      await client.query('ALTER SYSTEM RESET default_transaction_read_only');
      const { rows } = await client.query<{ promoted: boolean }>('SELECT pg_promote(true, $1::int) AS promoted', [waitSeconds]);
      await client.query('SELECT pg_reload_conf()');
      return rows[0]?.promoted === true;
    }, run.params.promoteTimeout + run.params.connectTimeout + 10_000);
  } catch (error) {
    if (run.signal.aborted) throw error;
    throw changeFailed(best.member, 'promotion (pg_promote)', error);
  }
  if (!done) throw transientError(`${best.member.name} did not finish promotion within ${waitSeconds}s`);
  return best;
}

async function runPromote(run: RunContext): Promise<StepOutput> {
  const { cluster } = run;
  const states = await Promise.all(cluster.members.map((member) => probe(run, member)));
  const primaries = states.filter((state): state is PrimaryState => state.role === 'primary');
  const standbys = states.filter((state): state is StandbyState => state.role === 'standby');
  const down = states.filter((state) => state.role === 'down');
  const unknown = states.filter((state): state is Extract<PostgresMemberState, { role: 'unknown' }> => state.role === 'unknown');
  const describe = (list: readonly PostgresMemberState[]) => list.map((state) => `${state.member.name} (${'error' in state ? state.error : state.role})`).join(', ');
  run.logger.info(
    { members: states.map((state) => ({ name: state.member.name, role: state.role, ...('error' in state ? { error: state.error } : {}) })) },
    'postgres.promote: probed members',
  );

  const refused = unknown.filter((state) => state.permanent);
  if (refused.length > 0) throw permanentError(`cannot inspect postgres cluster "${cluster.name}": ${describe(refused)}`);
  if (primaries.length === 0 && standbys.length === 0) {
    throw transientError(`no member of postgres cluster "${cluster.name}" is reachable: ${describe(states)}`);
  }
  const standbysByName = new Map(standbys.map((standby) => [standby.member.name, standby]));

  let target: InventoryMember;
  let timeline: number;
  let previous: string | null;
  let promoted = false;
  let stale: PrimaryState[] = [];
  if (primaries.length > 0) {
    // The newest timeline wins (a standby promoted later starts a higher one); then the one its standbys follow.
    const ranked = [...primaries].sort(
      (a, b) =>
        b.timeline - a.timeline ||
        Number(a.readOnly) - Number(b.readOnly) ||
        b.streamingStandbys - a.streamingStandbys ||
        b.member.priority - a.member.priority ||
        a.member.name.localeCompare(b.member.name),
    );
    const [winner, ...others] = ranked;
    if (!winner) throw new Error('unreachable: no primary');
    if (winner.readOnly) {
      throw permanentError(`${winner.member.name} is the newest primary of postgres cluster "${cluster.name}" (timeline ${winner.timeline}) but is fenced read-only (default_transaction_read_only = on); lift the fence or fail over by hand`);
    }
    target = winner.member;
    timeline = winner.timeline;
    previous = winner.member.name;
    stale = others;
  } else {
    if (unknown.length > 0) throw transientError(`not promoting in postgres cluster "${cluster.name}" while members answer but cannot be inspected: ${describe(unknown)}`);
    // A standby still streaming from a member remediator cannot reach means that primary is alive: promoting would split the brain.
    for (const standby of standbys) {
      if (!standby.streamingFrom) continue;
      const upstream = await memberAt(run, standby.streamingFrom);
      if (upstream && standbysByName.has(upstream.name)) continue;
      throw transientError(
        `not promoting in postgres cluster "${cluster.name}": ${standby.member.name} still streams from ${upstream?.name ?? `${standby.streamingFrom.host}:${standby.streamingFrom.port}`}, which remediator cannot reach; the primary may be alive`,
      );
    }
    previous = await previousPrimary(run, standbys);
    const best = await promote(run, standbys);
    promoted = true;
    target = best.member;
    standbysByName.delete(best.member.name);
    const newPrimary = target;
    let promotedTimeline = 0;
    const answered = await waitUntil(run, () =>
      withMember(run, newPrimary, async (client) => {
        const { rows } = await client.query<{ recovery: boolean; walfile: string | null }>(
          'SELECT pg_is_in_recovery() AS recovery, CASE WHEN NOT pg_is_in_recovery() THEN pg_walfile_name(pg_current_wal_lsn()) END AS walfile',
        );
        const row = rows[0];
        if (row?.recovery !== false || row.walfile === null) return false;
        promotedTimeline = Number.parseInt(row.walfile.slice(0, 8), 16);
        return true;
      }),
    );
    if (!answered.ok) throw transientError(`${target.name} was promoted but does not answer as primary${answered.lastError ? `: ${answered.lastError}` : ''}`);
    timeline = promotedTimeline;
  }

  // Every other reachable standby must follow the target; those that already do are left alone, and those
  // holding WAL the target lacks cannot.
  const history = await timelineHistory(run, target, timeline);
  const pending: { standby: StandbyState; rewrite: boolean }[] = [];
  const diverged: string[] = [];
  for (const standby of standbysByName.values()) {
    if (await follows(run, standby, target, standbysByName)) continue;
    if (hasDiverged(standby, timeline, history)) {
      diverged.push(standby.member.name);
      continue;
    }
    const endpoints = conninfoEndpoints(standby.conninfo);
    const configured = endpoints.length === 1 && endpoints[0] !== undefined && (await isMember(run, endpoints[0], target));
    pending.push({ standby, rewrite: !configured });
  }
  const changesNeeded = promoted || stale.some((primary) => !primary.readOnly) || pending.some((item) => item.rewrite || item.standby.paused);
  if (changesNeeded && unknown.length > 0) {
    throw transientError(`not changing postgres cluster "${cluster.name}" while members answer but cannot be inspected: ${describe(unknown)}`);
  }

  // Stale primaries first: every moment one accepts writes is a moment of split brain.
  const fenced: string[] = [];
  for (const primary of stale) {
    // Already fenced (by an earlier run): only checked, so a rerun changes nothing.
    if (primary.readOnly && (await writeRefused(run, primary.member))) continue;
    await fence(run, primary.member);
    fenced.push(primary.member.name);
  }

  const repointed: string[] = [];
  const resumed: string[] = [];
  for (const { standby, rewrite } of pending) {
    const result = await repoint(run, standby, target, rewrite);
    if (result.repointed) repointed.push(standby.member.name);
    if (result.resumed) resumed.push(standby.member.name);
    if (rewrite) run.logger.warn({ member: standby.member.name, primary: target.name }, 'postgres.promote: repointed standby');
  }
  if (diverged.length > 0) {
    run.logger.error({ diverged, primary: target.name, timeline }, 'postgres.promote: standbys hold WAL the primary lacks and cannot follow it; left untouched: rewind or rebuild them');
  }

  // Verify: the target answers as primary, and every pending standby streams from it.
  const targetState = await waitUntil(run, () =>
    withMember(run, target, async (client) => {
      const { rows } = await client.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery');
      return rows[0]?.recovery === false;
    }),
  );
  if (!targetState.ok) throw transientError(`${target.name} does not answer as primary${targetState.lastError ? `: ${targetState.lastError}` : ''}`);
  const lagging: string[] = [];
  await Promise.all(
    pending.map(async ({ standby }) => {
      const streaming = await waitUntil(run, () =>
        withMember(run, standby.member, async (client) => {
          const { rows } = await client.query<{ sender_host: string | null; sender_port: number | null }>(
            "SELECT sender_host, sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'",
          );
          const row = rows[0];
          if (!row || row.sender_host === null || row.sender_port === null) return false;
          return isMember(run, { host: row.sender_host, port: row.sender_port }, target);
        }),
      );
      if (!streaming.ok) lagging.push(`${standby.member.name}${streaming.lastError ? ` (${streaming.lastError})` : ''}`);
    }),
  );
  if (lagging.length > 0) {
    throw transientError(`${lagging.join(', ')} did not start streaming from ${target.name} within ${verifyTimeoutMs / 1000}s (see the standby's log)`);
  }

  const changed = promoted || fenced.length > 0 || repointed.length > 0 || resumed.length > 0;
  const output = {
    primary: target.name,
    previous,
    changed,
    promoted,
    fenced,
    repointed,
    resumed,
    diverged,
    timeline,
    unreachable: [...down, ...unknown].map((state) => state.member.name),
  };
  run.logger.info(output, changed ? 'postgres.promote: cluster changed' : 'postgres.promote: nothing to do');
  return output;
}

/**
 * Makes a PostgreSQL cluster have exactly one writable primary that every reachable standby follows: promotes
 * the freshest standby when no primary answers, fences stale primaries, repoints standbys. Idempotent.
 * The inventory credentials need superuser rights (or grants for ALTER SYSTEM, pg_promote, pg_reload_conf,
 * pg_terminate_backend, pg_read_all_settings and pg_read_server_files).
 */
export function createPostgresPromoteAction(options: { inventory: Inventory }) {
  const { inventory } = options;
  return defineAction({
    name: 'postgres.promote',
    description: 'Promote the freshest PostgreSQL standby when the primary is gone, fence stale primaries, repoint standbys.',
    schema: postgresPromoteSchema,
    defaultTimeoutMs: 180_000,
    checkRaw(raw) {
      return checkClusterRef(inventory, raw, 'postgres');
    },
    async run(params, { signal, logger }) {
      const cluster = resolveCluster(inventory, params.cluster, 'postgres');
      const run: RunContext = { cluster, params, signal, logger, open: new Map(), resolved: new Map() };
      // Stop promptly: an abort destroys every open connection, failing whatever connect or query is in flight.
      const onAbort = () => {
        for (const socket of run.open.values()) socket.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        return await runPromote(run);
      } finally {
        signal.removeEventListener('abort', onAbort);
        await Promise.all([...run.open.keys()].map((client) => close(run, client)));
      }
    },
  });
}
