import type { Redis } from 'ioredis';
import { sleep } from '../../src/util/sleep.js';

/** A member's live role, from ROLE. */
export type MemberRole = { role: 'primary' } | { role: 'replica'; primary: string; linked: boolean };

/** One member of the watched cluster and a connection to it. */
export interface WatchedMember {
  name: string;
  /** host:port, as replicas report their primary. */
  address: string;
  client: Redis;
}

/** Role changes seen by a {@link MemberWatch}. */
export interface RoleChanges {
  promoted: string[];
  /** Every promotion seen, oldest first: the member and when the watch first saw it as a primary (ms since the epoch). */
  promotions: { member: string; at: number }[];
  demoted: string[];
  repointed: string[];
  samples: number;
}

/** Polls ROLE on every member until stopped and remembers every role change it saw. */
export interface MemberWatch {
  changes(): RoleChanges;
  stop(): Promise<void>;
}

/** Asks one member for its role; undefined when it does not answer (down, or not yet up). */
export async function readRole(member: WatchedMember, members: readonly WatchedMember[]): Promise<MemberRole | undefined> {
  try {
    if (member.client.status === 'wait' || member.client.status === 'end') await member.client.connect();
    const reply = (await member.client.call('ROLE')) as unknown[];
    if (reply[0] === 'master') return { role: 'primary' };
    if (reply[0] !== 'slave') return undefined;
    const address = `${String(reply[1])}:${String(reply[2])}`;
    const primary = members.find((other) => other.address === address)?.name ?? address;
    return { role: 'replica', primary, linked: reply[3] === 'connected' };
  } catch {
    return undefined;
  }
}

/** `primary`, `replica of cache-a`, or `down`. */
export function describeRole(role: MemberRole | undefined): string {
  if (role === undefined) return 'down';
  return role.role === 'primary' ? 'primary' : `replica of ${role.primary}${role.linked ? '' : ' (link down)'}`;
}

/**
 * Starts polling ROLE every `intervalMs`. A member seen as a replica and later as a primary was promoted; one seen
 * as a primary and later as a replica was demoted (fenced); a replica seen following another primary was
 * repointed. A member that does not answer keeps its last known role: a restart alone changes nothing.
 */
export function watchMembers(members: readonly WatchedMember[], intervalMs = 100): MemberWatch {
  const last = new Map<string, MemberRole>();
  const changes: RoleChanges = { promoted: [], promotions: [], demoted: [], repointed: [], samples: 0 };
  const add = (list: string[], name: string) => {
    if (!list.includes(name)) list.push(name);
  };
  const state = { running: true };
  const loop = (async () => {
    while (state.running) {
      await Promise.all(
        members.map(async (member) => {
          const role = await readRole(member, members);
          if (!role) return;
          changes.samples++;
          const before = last.get(member.name);
          last.set(member.name, role);
          if (!before) return;
          if (before.role === 'replica' && role.role === 'primary') {
            add(changes.promoted, member.name);
            changes.promotions.push({ member: member.name, at: Date.now() });
          }
          if (before.role === 'primary' && role.role === 'replica') add(changes.demoted, member.name);
          if (before.role === 'replica' && role.role === 'replica' && before.primary !== role.primary) add(changes.repointed, member.name);
        }),
      );
      await sleep(intervalMs);
    }
  })();
  let stopping: Promise<void> | undefined;
  return {
    changes: () => ({
      promoted: [...changes.promoted],
      promotions: [...changes.promotions],
      demoted: [...changes.demoted],
      repointed: [...changes.repointed],
      samples: changes.samples,
    }),
    stop() {
      state.running = false;
      stopping ??= loop;
      return stopping;
    },
  };
}
