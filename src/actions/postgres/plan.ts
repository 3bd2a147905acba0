import { permanentError, transientError } from '../../core/action.js';
import type { InventoryMember } from '../../inventory/inventory.js';
import { conninfoEndpoints } from './conninfo.js';
import { formatBytes, maxPosition } from './lsn.js';
import type { MemberLocator, PostgresMemberState, PrimaryState, StandbyState, UnknownState } from './member-state.js';

/*
 * The decisions of postgres.promote, as pure functions of what the members reported (probe.ts) and the step's
 * parameters: which member is to be the primary, and who must be fenced, repointed or left alone. A refusal is
 * thrown as the step's error (permanent when retrying cannot help). No I/O here: tested without servers.
 */

/** Which member is to be the primary. */
export type PrimaryPlan =
  /** A writable primary answers (the newest); other primaries are stale and must be fenced. */
  | { kind: 'keep'; primary: PrimaryState; stale: PrimaryState[]; previous: string }
  /**
   * No primary answers: promote `candidate` once the death of `previous` (the primary the standbys were following)
   * is confirmed.
   */
  | { kind: 'promote'; candidate: StandbyState; previous: string | null }
  /** No primary answers and the step may not promote (`promote: false`): nothing to fence against, nothing to change. */
  | { kind: 'none'; reason: string; previous: string | null };

/** What the probe found, sorted by role. */
export interface ProbedCluster {
  /** The cluster's name, for messages. */
  name: string;
  states: readonly PostgresMemberState[];
  locate: MemberLocator;
}

const primariesOf = (states: readonly PostgresMemberState[]) => states.filter((state): state is PrimaryState => state.role === 'primary');
/** The members that answer as standbys. */
export const standbysOf = (states: readonly PostgresMemberState[]) =>
  states.filter((state): state is StandbyState => state.role === 'standby');
/** The members that answered but could not be inspected. */
export const unknownOf = (states: readonly PostgresMemberState[]) =>
  states.filter((state): state is UnknownState => state.role === 'unknown');
const describe = (list: readonly PostgresMemberState[]) =>
  list.map((state) => `${state.member.name} (${'error' in state ? state.error : state.role})`).join(', ');

/** The parameters of postgres.promote that decide the primary. */
export interface PrimaryPlanParams {
  maxLagBytes: number;
  /** false: fence only; with no primary answering nothing is promoted (and no death confirmed). */
  promote: boolean;
}

/**
 * Decides the primary: keep the newest writable one, or, when none answers, promote the freshest standby (or, with
 * `promote: false`, do nothing).
 */
export function planPrimary(cluster: ProbedCluster, params: PrimaryPlanParams): PrimaryPlan {
  const { name, states, locate } = cluster;
  const primaries = primariesOf(states);
  const standbys = standbysOf(states);
  const unknown = unknownOf(states);
  const refused = unknown.filter((state) => state.permanent);
  if (refused.length > 0) throw permanentError(`cannot inspect postgres cluster "${name}": ${describe(refused)}`);
  if (primaries.length === 0 && standbys.length === 0) {
    throw transientError(`no member of postgres cluster "${name}" is reachable: ${describe(states)}`);
  }
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
      throw permanentError(
        `${winner.member.name} is the newest primary of postgres cluster "${name}" (timeline ${winner.timeline}) but is fenced read-only (default_transaction_read_only = on); lift the fence or fail over by hand`,
      );
    }
    return { kind: 'keep', primary: winner, stale: others, previous: winner.member.name };
  }
  const previous = previousPrimary(standbys, locate);
  // Before the checks of a promotion: none of them matters to a step that will not promote.
  if (!params.promote) {
    return {
      kind: 'none',
      previous,
      reason: `no member of postgres cluster "${name}" answers as a primary (${describe(states)}); promote: false never promotes`,
    };
  }
  if (unknown.length > 0)
    throw transientError(`not promoting in postgres cluster "${name}" while members answer but cannot be inspected: ${describe(unknown)}`);
  // A standby still streaming from a server remediator cannot reach means that server is alive: promoting would
  // split the brain. Standbys of the previous primary are left to the confirmation (confirm-death), which asks them.
  const reachable = new Set(standbys.map((standby) => standby.member.name));
  for (const standby of standbys) {
    if (!standby.streamingFrom) continue;
    const upstream = locate(standby.streamingFrom)[0];
    if (upstream && (reachable.has(upstream.name) || upstream.name === previous)) continue;
    throw transientError(
      `not promoting in postgres cluster "${name}": ${standby.member.name} still streams from ${upstream?.name ?? `${standby.streamingFrom.host}:${standby.streamingFrom.port}`}, which remediator cannot reach; the primary may be alive`,
    );
  }
  return { kind: 'promote', candidate: chooseCandidate(name, standbys, params.maxLagBytes), previous };
}

/** Whose primary the standbys were following (from their primary_conninfo), by majority. */
export function previousPrimary(standbys: readonly StandbyState[], locate: MemberLocator): string | null {
  const votes = new Map<string, number>();
  for (const standby of standbys) {
    for (const endpoint of conninfoEndpoints(standby.conninfo)) {
      const member = locate(endpoint)[0];
      if (member && member.name !== standby.member.name) votes.set(member.name, (votes.get(member.name) ?? 0) + 1);
    }
  }
  return [...votes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;
}

function describeCandidate(standby: StandbyState, bestKnown: bigint): string {
  return `${standby.member.name} (replayed ${standby.replayLsn}, ${formatBytes(standby.received - standby.replayed)} received but not replayed, ${formatBytes(bestKnown - standby.received)} behind the most advanced standby)`;
}

/**
 * The standby to promote: the one that replayed the most WAL (then priority, then name), refused when it would
 * still have to replay, or would lose, more than `maxLagBytes`.
 */
export function chooseCandidate(cluster: string, standbys: readonly StandbyState[], maxLagBytes: number): StandbyState {
  const ranked = [...standbys].sort((a, b) =>
    b.replayed > a.replayed
      ? 1
      : b.replayed < a.replayed
        ? -1
        : b.member.priority - a.member.priority || a.member.name.localeCompare(b.member.name),
  );
  const best = ranked[0];
  if (!best) throw transientError(`no reachable standby in postgres cluster "${cluster}" to promote`);
  const bestKnown = standbys.reduce((known, standby) => maxPosition(known, standby.received), 0n);
  const unreplayed = best.received - best.replayed;
  const behind = bestKnown - best.received;
  const limit = BigInt(maxLagBytes);
  if (unreplayed > limit || behind > limit) {
    const reason =
      unreplayed > limit
        ? `has ${formatBytes(unreplayed)} of WAL received but not replayed`
        : `is ${formatBytes(behind)} of WAL behind the most advanced standby`;
    throw permanentError(
      `refusing to promote in postgres cluster "${cluster}": the best candidate ${best.member.name} (highest replay position) ${reason} (maxLagBytes ${formatBytes(limit)}); candidates: ${ranked.map((standby) => describeCandidate(standby, bestKnown)).join('; ')}`,
    );
  }
  return best;
}

/** Who must change so that every reachable member follows the primary. */
export interface FollowerPlan {
  /** Stale primaries, in inventory order: each is fenced, unless it is read-only already and a write proves it. */
  fence: PrimaryState[];
  /** Standbys to point at the primary: `rewrite` when their primary_conninfo names another server (else only resumed). */
  repoint: { standby: StandbyState; rewrite: boolean }[];
  /** Standbys holding WAL the primary lacks: they cannot follow it and are left alone (rewind or rebuild them). */
  diverged: string[];
}

/**
 * Decides who follows `target` on `timeline` (whose fork points `history` gives; undefined when it could not be
 * read): standbys that stream from it, directly or through others, are left alone, diverged ones too; the rest
 * are repointed, and stale primaries fenced. Nothing changes while a member answers but cannot be inspected.
 */
export function planFollowers(input: {
  cluster: ProbedCluster;
  target: InventoryMember;
  timeline: number;
  history: ReadonlyMap<number, bigint> | undefined;
  /** True when `target` was just promoted. */
  promoted: boolean;
  stale: readonly PrimaryState[];
}): FollowerPlan {
  const { cluster, target, timeline, history } = input;
  const standbys = new Map(
    standbysOf(cluster.states)
      .filter((standby) => standby.member.name !== target.name)
      .map((standby) => [standby.member.name, standby]),
  );
  const repoint: FollowerPlan['repoint'] = [];
  const diverged: string[] = [];
  for (const standby of standbys.values()) {
    if (follows(cluster.locate, standby, target, standbys)) continue;
    if (hasDiverged(standby, timeline, history)) {
      diverged.push(standby.member.name);
      continue;
    }
    const endpoints = conninfoEndpoints(standby.conninfo);
    const configured =
      endpoints.length === 1 && endpoints[0] !== undefined && cluster.locate(endpoints[0]).some((member) => member.name === target.name);
    repoint.push({ standby, rewrite: !configured });
  }
  const unknown = unknownOf(cluster.states);
  const changesNeeded =
    input.promoted || input.stale.some((primary) => !primary.readOnly) || repoint.some((item) => item.rewrite || item.standby.paused);
  if (changesNeeded && unknown.length > 0) {
    throw transientError(
      `not changing postgres cluster "${cluster.name}" while members answer but cannot be inspected: ${describe(unknown)}`,
    );
  }
  return { fence: [...input.stale], repoint, diverged };
}

/** True when `state` streams from `target`, directly or through standbys that do (cascading replication). */
function follows(
  locate: MemberLocator,
  state: StandbyState,
  target: InventoryMember,
  standbys: ReadonlyMap<string, StandbyState>,
  seen = new Set<string>(),
): boolean {
  if (!state.streamingFrom || seen.has(state.member.name)) return false;
  seen.add(state.member.name);
  const upstream = locate(state.streamingFrom)[0];
  if (!upstream) return false;
  if (upstream.name === target.name) return true;
  const through = standbys.get(upstream.name);
  return through !== undefined && follows(locate, through, target, standbys, seen);
}

/**
 * True when `standby` holds WAL the primary (on `timeline`) does not: it received past the point where its own
 * timeline forked, or it is on another branch. Such a standby can never stream from that primary: it must be
 * rewound or rebuilt (and its extra WAL may matter to whoever decides).
 */
export function hasDiverged(standby: StandbyState, timeline: number, history: ReadonlyMap<number, bigint> | undefined): boolean {
  if (history === undefined || standby.timeline === timeline) return false;
  if (standby.timeline > timeline) return true;
  const fork = history.get(standby.timeline);
  return fork === undefined || standby.received > fork;
}
