import type { Logger } from 'pino';
import { skipRun } from '../../core/action.js';
import type { InventoryCluster, InventoryMember } from '../../inventory/inventory.js';
import { createMemberClient } from '../../inventory/redis-member-client.js';
import { confirmDeath, type ConfirmationRecord } from '../confirm/confirm-death.js';
import type { ConfirmParams } from '../confirm/confirm-schema.js';
import { createRedisDeathObserver } from './death-observer.js';
import type { RedisMemberState } from './member-state.js';

/**
 * The member whose death must be confirmed before a promotion: the one the reachable replicas follow. Replicas
 * that follow a reachable member (a chain) or an address outside the inventory point at no primary of this cluster
 * and are left out. When the rest follow more than one member the topology is not what a failover can reason
 * about (an interrupted earlier change, a split): nothing is promoted, a person decides. Pure.
 */
export function primaryToConfirm(
  cluster: InventoryCluster,
  states: readonly RedisMemberState[],
): { member: InventoryMember; followers: string[] } | { reason: string } {
  const followed = new Map<string, string[]>();
  for (const state of states) {
    if (!state.reachable || state.role !== 'slave' || state.primary === undefined) continue;
    const target = states.find((candidate) => candidate.member.address === state.primary);
    if (!target || target.reachable) continue;
    followed.set(target.member.name, [...(followed.get(target.member.name) ?? []), state.member.name]);
  }
  const [first, ...others] = [...followed.entries()];
  if (!first)
    return { reason: `no reachable replica follows an unreachable member of ${cluster.name}: there is no primary to confirm dead` };
  if (others.length > 0) {
    const who = [first, ...others].map(([primary, replicas]) => `${replicas.join(', ')} → ${primary}`).join('; ');
    return { reason: `the replicas of ${cluster.name} follow different members (${who}): not promoting on a split topology` };
  }
  const member = cluster.members.find((candidate) => candidate.name === first[0]) as InventoryMember;
  return { member, followers: first[1] };
}

/**
 * Confirms that the primary the replicas follow is dead (confirmDeath): resolves with the record, or ends the run
 * skipped. Asks every other member through its own short-timeout connection, so that a hung member costs one
 * probeTimeout per round, not the step's connectTimeout.
 */
export async function confirmPrimaryDeath(
  cluster: InventoryCluster,
  states: readonly RedisMemberState[],
  params: ConfirmParams,
  context: { signal: AbortSignal; logger: Logger },
): Promise<ConfirmationRecord & { primary: string }> {
  const found = primaryToConfirm(cluster, states);
  if ('reason' in found) throw skipRun('death-unconfirmed', found.reason, {});
  const others = cluster.members.filter((member) => member !== found.member);
  const clients = others.map((member) => ({
    member,
    client: createMemberClient(cluster, member, { connectionName: 'remediator-confirm', timeoutMs: params.probeTimeout }),
  }));
  try {
    const observer = createRedisDeathObserver({
      primary: { name: found.member.name, address: found.member.address },
      replicas: clients.map(({ member, client }) => {
        // One connect for the calls of a round (a second concurrent connect() is refused); again after a failure.
        let connecting: Promise<void> | undefined;
        return {
          name: member.name,
          call: async (command: string, ...args: string[]) => {
            if (client.status === 'wait' || client.status === 'end')
              connecting ??= client.connect().finally(() => (connecting = undefined));
            await connecting;
            return client.call(command, ...args);
          },
        };
      }),
      probeTimeout: params.probeTimeout,
    });
    return { primary: found.member.name, ...(await confirmDeath(observer, params, context)) };
  } finally {
    for (const { client } of clients) client.disconnect();
  }
}
