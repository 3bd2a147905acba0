import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { transientError } from '../../core/action.js';
import type { InventoryCluster, InventoryMember } from '../../inventory/inventory.js';
import { createMemberClient } from '../../inventory/redis-member-client.js';
import { sleep } from '../../util/sleep.js';
import type { RedisMemberState } from './member-state.js';
import type { FailoverPlan } from './plan.js';
import { probeMember } from './probe.js';
import { protectPromoted, type ProtectParams, type Protection } from './protect.js';

/** What carrying out a plan needs: the cluster, a connection per member, the step's signal and logger. */
export interface FailoverSession {
  cluster: InventoryCluster;
  client: (member: InventoryMember) => Redis;
  signal: AbortSignal;
  logger: Logger;
}

/** A session with one connection per member of `cluster`, each bounded by `timeoutMs`; `close` drops them all. */
export function openFailoverSession(
  cluster: InventoryCluster,
  options: { connectionName: string; timeoutMs: number; signal: AbortSignal; logger: Logger },
): FailoverSession & { close(): void } {
  const { connectionName, timeoutMs, signal, logger } = options;
  const clients = new Map(
    cluster.members.map((member) => [member.name, createMemberClient(cluster, member, { connectionName, timeoutMs })]),
  );
  return {
    cluster,
    client: (member: InventoryMember) => clients.get(member.name) as Redis,
    signal,
    logger,
    close: () => {
      for (const connection of clients.values()) connection.disconnect();
    },
  };
}

/**
 * Promotes the plan's primary when it is a replica (protected first, see protect.ts), then points every follower at
 * it; returns who was moved.
 */
export async function applyFailover(
  session: FailoverSession,
  plan: Extract<FailoverPlan, { kind: 'converge' }>,
  protect: ProtectParams = false,
): Promise<{ promoted: boolean; fenced: string[]; repointed: string[]; protection?: Protection }> {
  const { cluster, client, signal, logger } = session;
  const { primary } = plan;
  let protection: Protection | undefined;
  if (plan.promote) {
    if (protect !== false) {
      // Every follower, and every reachable replica already following it, replicates from it afterwards.
      protection = await protectPromoted(client(primary.member), protect, plan.followers.length + plan.following, {
        member: primary.member.name,
        logger,
      });
    }
    logger.warn({ cluster: cluster.name, member: primary.member.name, offset: primary.offset }, 'promoting replica');
    await client(primary.member).call('REPLICAOF', 'NO', 'ONE');
  }
  const fenced: string[] = [];
  const repointed: string[] = [];
  for (const { state, fence } of plan.followers) {
    signal.throwIfAborted();
    // An old primary becomes a replica (fenced: it refuses writes from now on); a replica follows the new primary.
    await client(state.member).call('REPLICAOF', primary.member.host, String(primary.member.port));
    (fence ? fenced : repointed).push(state.member.name);
    logger.warn({ cluster: cluster.name, member: state.member.name, primary: primary.member.name, fenced: fence }, 'repointed member');
  }
  return { promoted: plan.promote, fenced, repointed, ...(protection ? { protection } : {}) };
}

/** Waits until the primary is a primary and every other reachable member replicates from it with its link up. */
export async function verifyFailover(
  session: FailoverSession,
  primary: RedisMemberState,
  members: readonly RedisMemberState[],
  timeoutMs: number,
): Promise<void> {
  const { cluster, client, signal, logger } = session;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems: string[] = [];
    const head = await probeMember(client(primary.member), primary.member);
    if (head.role !== 'master') problems.push(`${primary.member.name} is not primary (${head.error ?? head.role ?? 'unknown'})`);
    for (const state of members) {
      if (state === primary) continue;
      const now = await probeMember(client(state.member), state.member);
      if (!now.reachable) continue; // went away meanwhile: it will be fenced when it is back
      if (now.role !== 'slave' || now.primary !== primary.member.address || !now.linkUp) {
        problems.push(
          `${state.member.name} is ${now.role === 'slave' ? `replicating from ${now.primary ?? '?'} (link ${now.linkUp ? 'up' : 'down'})` : 'still a primary'}`,
        );
      }
    }
    if (problems.length === 0) return;
    if (Date.now() > deadline) throw transientError(`${cluster.name}: not converged after ${timeoutMs} ms: ${problems.join('; ')}`);
    logger.debug({ problems }, 'waiting for replicas to follow the new primary');
    await sleep(200, signal);
  }
}
