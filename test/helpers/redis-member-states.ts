import type { RedisMemberState } from '../../src/actions/redis/member-state.js';
import type { InventoryMember } from '../../src/inventory/inventory.js';

// Probed member states for the pure tests of the Redis plans (no server).

/** cache-p at 10.0.0.16:6379, cache-a at 10.0.0.1:6379, … (the last letter numbers the host). */
export function member(name: string, priority = 0): InventoryMember {
  const host = `10.0.0.${name.charCodeAt(name.length - 1) - 96}`;
  return { name, address: `${host}:6379`, host, port: 6379, priority };
}

/** A reachable primary with `replicas` connected. */
export function primary(name: string, options: { offset?: number; replicas?: number; priority?: number } = {}): RedisMemberState {
  return {
    member: member(name, options.priority),
    reachable: true,
    role: 'master',
    offset: options.offset ?? 1000,
    connectedReplicas: options.replicas ?? 0,
  };
}

/** A replica of `of` (cache-p unless given); its link down for `downSeconds` when given; `applied` below `offset` when given. */
export function replica(
  name: string,
  options: { of?: string; offset?: number; applied?: number; downSeconds?: number; priority?: number } = {},
): RedisMemberState {
  const linkUp = options.downSeconds === undefined;
  return {
    member: member(name, options.priority),
    reachable: true,
    role: 'slave',
    primary: member(options.of ?? 'cache-p').address,
    linkUp,
    ...(linkUp ? {} : { linkDownSeconds: options.downSeconds }),
    offset: options.offset ?? 1000,
    ...(options.applied === undefined ? {} : { appliedOffset: options.applied }),
    connectedReplicas: 0,
  };
}

/** A member that did not answer. */
export const gone = (name: string): RedisMemberState => ({
  member: member(name),
  reachable: false,
  error: 'connect ECONNREFUSED',
  offset: 0,
  connectedReplicas: 0,
});
