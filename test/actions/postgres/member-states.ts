import type { Endpoint } from '../../../src/actions/postgres/conninfo.js';
import type { MemberLocator, PostgresMemberState, PrimaryState, StandbyState } from '../../../src/actions/postgres/member-state.js';
import type { ProbedCluster } from '../../../src/actions/postgres/plan.js';
import type { InventoryMember } from '../../../src/inventory/inventory.js';

/*
 * What the members of cluster `db` (pg-a … pg-d at 10.0.0.1:5432 …) report, made up for the pure plans' unit tests.
 */

/** Members pg-a … at 10.0.0.1:5432 …, by name. */
export function member(name: string, priority = 0): InventoryMember {
  const host = `10.0.0.${name.charCodeAt(name.length - 1) - 96}`;
  return { name, address: `${host}:5432`, host, port: 5432, priority };
}

/** Matches by literal host and port, as the real locator does once names are resolved. */
export const locatorFor =
  (members: readonly InventoryMember[]): MemberLocator =>
  (endpoint: Endpoint) =>
    members.filter((candidate) => candidate.host === endpoint.host && candidate.port === endpoint.port);

/** A primary at 0/5000000 on timeline 1, writable, unless `options` say otherwise. */
export function primary(name: string, options: Partial<Omit<PrimaryState, 'member' | 'role'>> & { priority?: number } = {}): PrimaryState {
  const { priority, ...rest } = options;
  return {
    member: member(name, priority),
    role: 'primary',
    lsn: '0/5000000',
    position: 0x5000000n,
    timeline: 1,
    readOnly: false,
    streamingStandbys: 0,
    ...rest,
  };
}

/** A standby of `upstream` (streaming from it unless `streaming: false`), at `replayed`/`received` bytes. */
export function standby(
  name: string,
  options: {
    upstream?: string;
    streaming?: boolean;
    replayed?: bigint;
    received?: bigint;
    priority?: number;
    paused?: boolean;
    timeline?: number;
    conninfo?: string;
  } = {},
): StandbyState {
  const upstream = member(options.upstream ?? 'pg-a');
  const replayed = options.replayed ?? 0x5000000n;
  return {
    member: member(name, options.priority),
    role: 'standby',
    receiveLsn: undefined,
    replayLsn: `0/${replayed.toString(16).toUpperCase()}`,
    received: options.received ?? replayed,
    replayed,
    paused: options.paused ?? false,
    conninfo: options.conninfo ?? `user=replicator host=${upstream.host} port=${upstream.port} application_name=${name}`,
    slotName: '',
    streamingFrom: options.streaming === false ? undefined : { host: upstream.host, port: upstream.port },
    timeline: options.timeline ?? 1,
  };
}

/** A member that does not answer. */
export const down = (name: string): PostgresMemberState => ({ member: member(name), role: 'down', error: 'connect ECONNREFUSED' });
/** A member that answers but cannot be inspected (`permanent`: our credentials are refused). */
export const unknown = (name: string, permanent: boolean): PostgresMemberState => ({
  member: member(name),
  role: 'unknown',
  error: permanent ? 'password authentication failed for user "postgres"' : 'the database system is starting up',
  permanent,
});

/** Cluster `db` with these states; every member pg-a … pg-d can be located. */
export function cluster(...states: PostgresMemberState[]): ProbedCluster {
  return { name: 'db', states, locate: locatorFor(['pg-a', 'pg-b', 'pg-c', 'pg-d'].map((name) => member(name))) };
}
