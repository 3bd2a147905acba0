import { infoNumber, parseInfo, replicaOffset } from '../inventory/redis-info.js';
import { createMemberClient } from '../inventory/redis-member-client.js';
import type { InventoryCluster, InventoryMember } from '../inventory/inventory.js';
import type { ClusterCollector } from './collector.js';
import type { MemberRole, Sample } from './metric-catalogue.js';

/**
 * Redis primary/replica clusters, from INFO replication: role (master → primary, slave → replica), and for a
 * replica its link, seconds since it last heard from its primary (or since the link went down), and bytes behind
 * the freshest member that answered in the same scrape (a dead primary leaves the replicas compared with each other).
 */
export function createRedisCollector(): ClusterCollector {
  return {
    begin(cluster) {
      const offsets = new Map<string, { role: MemberRole; offset: number }>();
      return {
        async probe(member, signal) {
          const info = await readReplication(cluster, member, signal);
          const role = roleOf(info.get('role'));
          const samples: Sample[] = [{ metric: 'remediator_member_up', labels: { role }, value: 1 }];
          if (role !== 'replica') {
            offsets.set(member.name, { role, offset: infoNumber(info, 'master_repl_offset') });
            return samples;
          }
          offsets.set(member.name, { role, offset: replicaOffset(info) });
          const linkUp = info.get('master_link_status') === 'up';
          const seconds = infoNumber(info, linkUp ? 'master_last_io_seconds_ago' : 'master_link_down_since_seconds');
          samples.push(
            { metric: 'remediator_replication_link_up', labels: {}, value: linkUp ? 1 : 0 },
            // -1: never linked since it started, so nothing it holds can be vouched for.
            { metric: 'remediator_replication_lag_seconds', labels: {}, value: seconds < 0 ? Number.POSITIVE_INFINITY : seconds },
          );
          return samples;
        },
        finish(answered) {
          const states = [...offsets].filter(([name]) => answered.has(name));
          if (states.length === 0) return [];
          const freshest = Math.max(...states.map(([, state]) => state.offset));
          return states
            .filter(([, state]) => state.role === 'replica')
            .map(([name, state]) => ({
              metric: 'remediator_replication_lag_bytes',
              labels: { instance: name },
              value: Math.max(0, freshest - state.offset),
            }));
        },
      };
    },
  };
}

function roleOf(role: string | undefined): MemberRole {
  if (role === 'master') return 'primary';
  if (role === 'slave') return 'replica';
  return 'unknown';
}

/** INFO replication of one member on a connection of its own, dropped when `signal` aborts. */
async function readReplication(cluster: InventoryCluster, member: InventoryMember, signal: AbortSignal): Promise<Map<string, string>> {
  signal.throwIfAborted();
  // A probe is one attempt: retries and queued commands would only outlive the scrape that wanted them.
  const client = createMemberClient(cluster, member, { connectionName: 'remediator-exporter' });
  const onAbort = () => {
    client.disconnect();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
    return parseInfo(await client.info('replication'));
  } finally {
    signal.removeEventListener('abort', onAbort);
    client.disconnect();
  }
}
