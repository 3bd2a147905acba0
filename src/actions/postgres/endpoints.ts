import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { InventoryMember } from '../../inventory/inventory.js';
import type { Endpoint } from './conninfo.js';
import type { MemberLocator } from './member-state.js';
import type { PostgresSession } from './session.js';

/** The addresses a host name resolves to (an IP literal is itself), bounded by the connect timeout. */
function addressesOf(session: PostgresSession, host: string): Promise<Set<string>> {
  const key = host.toLowerCase();
  let found = session.resolved.get(key);
  if (!found) {
    if (isIP(host) !== 0) found = Promise.resolve(new Set([host]));
    else {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<Set<string>>((resolve) => {
        timer = setTimeout(() => {
          resolve(new Set());
        }, session.connectTimeout);
      });
      found = Promise.race([lookup(host, { all: true }).then((entries) => new Set(entries.map((entry) => entry.address))), timedOut])
        .catch(() => new Set<string>())
        .finally(() => {
          clearTimeout(timer);
        });
    }
    session.resolved.set(key, found);
  }
  return found;
}

/** Whether host:port (as a standby sees its upstream) is `member`: same port and same host, by name or address. */
export async function isMember(session: PostgresSession, endpoint: Endpoint, member: InventoryMember): Promise<boolean> {
  if (endpoint.port !== member.port || endpoint.host.startsWith('/')) return false;
  if (endpoint.host.toLowerCase() === member.host.toLowerCase()) return true;
  const [a, b] = await Promise.all([addressesOf(session, endpoint.host), addressesOf(session, member.host)]);
  return [...a].some((address) => b.has(address));
}

const keyOf = (endpoint: Endpoint) => `${endpoint.port}/${endpoint.host}`;

/**
 * Resolves `endpoints` to the cluster's members once (names through DNS, bounded), for a plan that must not wait
 * on lookups. Asked about an endpoint it was not given, the locator throws: that is a bug, not a missing member.
 */
export async function createMemberLocator(session: PostgresSession, endpoints: readonly Endpoint[]): Promise<MemberLocator> {
  const found = new Map<string, readonly InventoryMember[]>();
  await Promise.all(
    endpoints.map(async (endpoint) => {
      const key = keyOf(endpoint);
      if (found.has(key)) return;
      found.set(key, []);
      const matches = await Promise.all(session.cluster.members.map((member) => isMember(session, endpoint, member)));
      found.set(
        key,
        session.cluster.members.filter((_member, index) => matches[index]),
      );
    }),
  );
  return (endpoint) => {
    const members = found.get(keyOf(endpoint));
    if (!members) throw new Error(`endpoint ${endpoint.host}:${endpoint.port} was not resolved before planning`);
    return members;
  };
}
