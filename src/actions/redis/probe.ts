import type { Redis } from 'ioredis';
import { joinAddress, type InventoryMember } from '../../inventory/inventory.js';
import { infoNumber, parseInfo, replicaOffset } from '../../inventory/redis-info.js';
import { withTimeout } from '../../util/with-timeout.js';
import type { RedisMemberState } from './member-state.js';

/**
 * What `member` reports in INFO replication; a member that cannot be asked is unreachable (never an error). With
 * `timeoutMs`, connection and answer together take at most that long: a stopped process accepts the connection and
 * never answers, and ioredis's own timeouts, one after the other, let it take twice as long. The connection is then
 * dropped, so the next probe starts afresh instead of queueing behind the unanswered command.
 */
export async function probeMember(client: Redis, member: InventoryMember, timeoutMs?: number): Promise<RedisMemberState> {
  const ask = async () => {
    if (client.status !== 'ready') await client.connect();
    return memberStateOf(member, parseInfo(await client.info('replication')));
  };
  try {
    return await (timeoutMs === undefined ? ask() : withTimeout(ask(), timeoutMs));
  } catch (error) {
    if (timeoutMs !== undefined) client.disconnect();
    return { member, reachable: false, error: (error as Error).message, offset: 0, connectedReplicas: 0 };
  }
}

/** A reachable member's state from its INFO replication fields: anything but a master counts as a replica. */
export function memberStateOf(member: InventoryMember, info: ReadonlyMap<string, string>): RedisMemberState {
  const role = info.get('role') === 'master' ? 'master' : 'slave';
  const connectedReplicas = infoNumber(info, 'connected_slaves');
  if (role === 'master') return { member, reachable: true, role, offset: infoNumber(info, 'master_repl_offset'), connectedReplicas };
  const linkUp = info.get('master_link_status') === 'up';
  return {
    member,
    reachable: true,
    role,
    primary: joinAddress(info.get('master_host') ?? '', info.get('master_port') ?? ''),
    linkUp,
    ...(linkUp ? {} : { linkDownSeconds: infoNumber(info, 'master_link_down_since_seconds') }),
    offset: replicaOffset(info),
    appliedOffset: infoNumber(info, 'slave_repl_offset'),
    connectedReplicas,
  };
}
