import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Inventory, InventoryCluster, InventoryMember } from '../inventory/inventory.js';
import { createMemberClient } from '../inventory/redis-member-client.js';
import { durationSchema } from '../core/duration.js';
import { sleep } from '../util/sleep.js';
import { defineAction, permanentError, transientError } from '../core/action.js';
import { checkClusterRef, resolveCluster } from './cluster-ref.js';
import type { PrimaryRecord } from '../state/primary-record.js';

const redisFailoverSchema = z.strictObject({
  cluster: z.string().min(1),
  /** A replica further behind the freshest reachable one than this is never promoted. */
  maxLagBytes: z.number().int().nonnegative().default(1024 * 1024), // 1 MiB
  /** A replica that lost its primary this long before the failure missed writes nobody can measure: never promoted. */
  maxStaleness: durationSchema.default(10_000),
  /**
   * When the primary failed (RFC 3339). Default: the latest moment a reachable replica lost its link, which is
   * when the primary died. The alert's startsAt is no substitute: Prometheus sets it only after the rule's `for:`.
   * Give it when a single replica may be left, whose staleness cannot be judged against another.
   */
  failedAt: z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'must be an RFC 3339 timestamp').optional(),
  connectTimeout: durationSchema.default(2000),
  /**
   * false: fence only. A returned old primary is made a replica of the current one, but with no primary reachable
   * nothing is promoted: a promotion is a failover, which belongs to the budgeted, guarded remediation run, not
   * to a failback that runs whenever the alert resolves.
   */
  promote: z.boolean().default(true),
  /** How long to wait for the replicas to be linked to the new primary. */
  verifyTimeout: durationSchema.default(15_000),
});

/** What INFO replication says about one member, or why it could not be asked. */
export interface RedisMemberState {
  member: InventoryMember;
  reachable: boolean;
  error?: string;
  role?: 'master' | 'slave';
  /** For a replica: host:port of its primary. */
  primary?: string;
  linkUp?: boolean;
  /** For a replica: seconds since its link to the primary went down (absent when up). */
  linkDownSeconds?: number;
  /** Replication offset: master_repl_offset of a primary, slave_repl_offset of a replica. */
  offset: number;
  connectedReplicas: number;
}

/** Parses INFO replication into key → value. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

async function probe(client: Redis, member: InventoryMember): Promise<RedisMemberState> {
  try {
    if (client.status !== 'ready') await client.connect();
    const info = parseInfo(await client.info('replication'));
    const role = info.get('role') === 'master' ? 'master' : 'slave';
    const number = (key: string) => Number(info.get(key) ?? 0);
    if (role === 'master') return { member, reachable: true, role, offset: number('master_repl_offset'), connectedReplicas: number('connected_slaves') };
    const linkUp = info.get('master_link_status') === 'up';
    return {
      member,
      reachable: true,
      role,
      primary: `${info.get('master_host') ?? ''}:${info.get('master_port') ?? ''}`,
      linkUp,
      ...(linkUp ? {} : { linkDownSeconds: number('master_link_down_since_seconds') }),
      offset: Math.max(number('slave_repl_offset'), number('slave_read_repl_offset')),
      connectedReplicas: number('connected_slaves'),
    };
  } catch (error) {
    return { member, reachable: false, error: (error as Error).message, offset: 0, connectedReplicas: 0 };
  }
}

/**
 * Fails a Redis primary/replica cluster over, driven by live roles (INFO replication), never by what the
 * inventory says a member's role is. Idempotent: on a healthy cluster it changes nothing.
 * - No reachable primary: promote the freshest eligible replica (highest offset, then priority), repoint the rest.
 * - Several reachable primaries (an old primary came back): keep the recorded/most-followed one, fence the others
 *   by making them its replicas, so two primaries never accept writes.
 */
export function createRedisFailoverAction(options: { inventory: Inventory; record?: PrimaryRecord }) {
  return defineAction({
    name: 'redis.failover',
    description: 'Promote the best Redis replica, fence the old primary, repoint the others, verify.',
    schema: redisFailoverSchema,
    defaultTimeoutMs: 60_000,
    checkRaw: (raw) => checkClusterRef(options.inventory, raw, 'redis'),
    async run(params, { logger, signal }) {
      const cluster = resolveCluster(options.inventory, params.cluster, 'redis');
      const clients = new Map(cluster.members.map((member) => [member.name, createMemberClient(cluster, member, { connectionName: 'remediator-failover', timeoutMs: params.connectTimeout })]));
      const client = (member: InventoryMember) => clients.get(member.name) as Redis;
      try {
        const states = await Promise.all(cluster.members.map((member) => probe(client(member), member)));
        signal.throwIfAborted();
        const reachable = states.filter((state) => state.reachable);
        if (reachable.length === 0) {
          throw transientError(`no member of ${cluster.name} is reachable: ${states.map((state) => `${state.member.name} (${state.error ?? 'down'})`).join(', ')}`);
        }
        const primaries = reachable.filter((state) => state.role === 'master');
        const recorded = await options.record?.get(cluster.name);
        let primary: RedisMemberState;
        let promoted = false;
        if (primaries.length > 0) {
          primary = chooseAuthoritative(primaries, recorded);
        } else if (!params.promote) {
          logger.warn({ cluster: cluster.name }, 'no primary reachable and promote: false: nothing to fence against, nothing changed');
          return { cluster: cluster.name, primary: null, changed: false, promoted: false, fenced: [], repointed: [], reason: 'no primary reachable; promote: false never promotes' };
        } else {
          primary = chooseReplica(reachable, params);
          logger.warn({ cluster: cluster.name, member: primary.member.name, offset: primary.offset }, 'promoting replica');
          await client(primary.member).call('REPLICAOF', 'NO', 'ONE');
          promoted = true;
        }
        const fenced: string[] = [];
        const repointed: string[] = [];
        for (const state of reachable) {
          if (state === primary) continue;
          if (state.role === 'slave' && state.primary === primary.member.address) continue;
          signal.throwIfAborted();
          // An old primary becomes a replica (fenced: it refuses writes from now on); a replica follows the new primary.
          await client(state.member).call('REPLICAOF', primary.member.host, String(primary.member.port));
          (state.role === 'master' ? fenced : repointed).push(state.member.name);
          logger.warn({ cluster: cluster.name, member: state.member.name, primary: primary.member.name, fenced: state.role === 'master' }, 'repointed member');
        }
        await options.record?.set(cluster.name, primary.member.name);
        await verify(cluster, primary, reachable, client, params.verifyTimeout, signal, logger);
        return {
          cluster: cluster.name,
          primary: primary.member.name,
          ...(recorded === undefined ? {} : { previouslyRecorded: recorded }),
          changed: promoted || fenced.length > 0 || repointed.length > 0,
          promoted,
          fenced,
          repointed,
          unreachable: states.filter((state) => !state.reachable).map((state) => state.member.name),
        };
      } finally {
        for (const connection of clients.values()) connection.disconnect();
      }
    },
  });
}

/** Among reachable primaries: the recorded one, else the most followed, then the furthest ahead, then priority. */
function chooseAuthoritative(primaries: RedisMemberState[], recorded: string | undefined): RedisMemberState {
  const byRecord = primaries.find((state) => state.member.name === recorded);
  if (byRecord) return byRecord;
  return [...primaries].sort((a, b) => b.connectedReplicas - a.connectedReplicas || b.offset - a.offset || b.member.priority - a.member.priority)[0] as RedisMemberState;
}

/** The freshest eligible replica, or a permanent error saying why none is. */
function chooseReplica(replicas: RedisMemberState[], params: { maxLagBytes: number; maxStaleness: number; failedAt?: string | undefined }): RedisMemberState {
  const now = Date.now();
  const linkLostAt = (state: RedisMemberState) => (state.linkUp ? now : now - (state.linkDownSeconds ?? 0) * 1000);
  const failedAt = params.failedAt === undefined ? Math.max(...replicas.map(linkLostAt)) : Date.parse(params.failedAt);
  const freshest = Math.max(...replicas.map((state) => state.offset));
  const reasons: string[] = [];
  const eligible = replicas.filter((state) => {
    const lag = freshest - state.offset;
    const lostAt = linkLostAt(state);
    if (lag > params.maxLagBytes) {
      reasons.push(`${state.member.name} is ${lag} bytes behind ${String(freshest)} (max ${params.maxLagBytes})`);
      return false;
    }
    if (lostAt < failedAt - params.maxStaleness) {
      reasons.push(`${state.member.name} lost its primary ${Math.round((failedAt - lostAt) / 1000)} s before the failure (max ${params.maxStaleness / 1000} s)`);
      return false;
    }
    return true;
  });
  const best = eligible.sort((a, b) => b.offset - a.offset || b.member.priority - a.member.priority || a.member.name.localeCompare(b.member.name))[0];
  if (!best) throw permanentError(`no replica is safe to promote: ${reasons.join('; ')}`);
  return best;
}

/** Waits until the primary is a primary and every other reachable member replicates from it with its link up. */
async function verify(
  cluster: InventoryCluster,
  primary: RedisMemberState,
  members: RedisMemberState[],
  client: (member: InventoryMember) => Redis,
  timeoutMs: number,
  signal: AbortSignal,
  logger: Logger,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems: string[] = [];
    const head = await probe(client(primary.member), primary.member);
    if (head.role !== 'master') problems.push(`${primary.member.name} is not primary (${head.error ?? head.role ?? 'unknown'})`);
    for (const state of members) {
      if (state === primary) continue;
      const now = await probe(client(state.member), state.member);
      if (!now.reachable) continue; // went away meanwhile: it will be fenced when it is back
      if (now.role !== 'slave' || now.primary !== primary.member.address || !now.linkUp) {
        problems.push(`${state.member.name} is ${now.role === 'slave' ? `replicating from ${now.primary ?? '?'} (link ${now.linkUp ? 'up' : 'down'})` : 'still a primary'}`);
      }
    }
    if (problems.length === 0) return;
    if (Date.now() > deadline) throw transientError(`${cluster.name}: not converged after ${timeoutMs} ms: ${problems.join('; ')}`);
    logger.debug({ problems }, 'waiting for replicas to follow the new primary');
    await sleep(200, signal);
  }
}
