import { permanentError } from '../../core/action.js';
import { formatBytes } from './lsn.js';
import type { PrimaryState, StandbyState } from './member-state.js';
import { standbysOf, unknownOf, type ProbedCluster } from './plan.js';

/*
 * The decision of postgres.switchover, as a pure function of what the members reported (probe.ts): whether the
 * cluster can switch, to whom, or why not. No I/O here: tested without servers.
 */

/** One standby as the switchover saw it, for a refusal's details (kept small: it is stored in the run). */
export interface CandidateView {
  name: string;
  /** Bytes of WAL the primary has that the standby has not replayed. */
  lagBytes: number;
  streaming: boolean;
  paused: boolean;
}

/** What the switchover is to do. */
export type SwitchoverPlan =
  /**
   * `to` is the primary already (asked so, or a rerun after the promotion): nothing to switch; the other primaries
   * (all fenced read-only) are checked and the standbys made to follow it.
   */
  | { kind: 'already'; primary: PrimaryState; stale: PrimaryState[] }
  /** Stop writes on `primary`, promote `candidate`, which was `lagBytes` behind when probed. */
  | { kind: 'switch'; primary: PrimaryState; candidate: StandbyState; lagBytes: bigint; stale: PrimaryState[] }
  /** Switching would be wrong or impossible: nothing is changed and the run ends skipped with `reason`. */
  | { kind: 'refused'; reason: string; details: { from: string | null; to: string | null; candidates: CandidateView[] } };

/** The parameters of postgres.switchover that decide the plan. */
export interface SwitchoverPlanParams {
  /** A member name, or '' for the best caught-up standby. */
  to: string;
  maxLagBytes: number;
  /**
   * The primary this run already fenced (remembered across a retry of the run): it counts as the writable primary
   * though it is read-only now. Any other read-only primary is someone else's fence.
   */
  fencedByThisRun?: string | undefined;
}

const lagOf = (primary: PrimaryState, standby: StandbyState): bigint =>
  primary.position > standby.replayed ? primary.position - standby.replayed : 0n;

/**
 * Decides the switchover: the one writable primary (the cluster's, never a guess between several), and the standby
 * named by `to` (or the best one: the most WAL replayed, then priority, then name) streaming from it directly, with
 * replay running and within `maxLagBytes` of it. Refused otherwise.
 */
export function planSwitchover(cluster: ProbedCluster, params: SwitchoverPlanParams): SwitchoverPlan {
  const { name, states, locate } = cluster;
  const refusedAccess = unknownOf(states).filter((state) => state.permanent);
  if (refusedAccess.length > 0)
    throw permanentError(
      `cannot inspect postgres cluster "${name}": ${refusedAccess.map((state) => `${state.member.name} (${state.error})`).join(', ')}`,
    );
  const primaries = states.filter((state): state is PrimaryState => state.role === 'primary');
  const open = primaries.filter((state) => !state.readOnly);
  // Once the candidate is promoted it is the writable one, and the fenced old primary merely stale.
  const writable = open.length > 0 ? open : primaries.filter((state) => state.member.name === params.fencedByThisRun);
  const standbys = standbysOf(states);
  const refuse = (reason: string, from: string | null, to: string | null, primary?: PrimaryState): SwitchoverPlan => ({
    kind: 'refused',
    reason: `no switchover in postgres cluster "${name}": ${reason}`,
    details: { from, to, candidates: primary ? standbys.map((standby) => viewOf(primary, standby, locate)) : [] },
  });
  const to = params.to === '' ? null : params.to;
  if (to !== null && !cluster.states.some((state) => state.member.name === to)) return refuse(`"${to}" is not a member`, null, to);
  const [primary, ...more] = writable;
  if (!primary) {
    const fenced = primaries.map((state) => state.member.name);
    return refuse(
      fenced.length > 0
        ? `no writable primary answers (${fenced.join(', ')} fenced read-only): lift the fence or fail over by hand`
        : 'no primary answers: that is a failover (postgres.promote), not a switchover',
      null,
      to,
    );
  }
  if (more.length > 0) {
    return refuse(
      `several writable primaries answer (${writable.map((state) => state.member.name).join(', ')}): postgres.promote fences the stale one first`,
      null,
      to,
    );
  }
  const stale = primaries.filter((state) => state !== primary);
  const from = primary.member.name;
  if (to === from) return { kind: 'already', primary, stale };
  const unknown = unknownOf(states);
  if (unknown.length > 0) {
    const names = unknown.map((state) => `${state.member.name} (${state.error})`).join(', ');
    return refuse(`members answer but cannot be inspected: ${names}`, from, to, primary);
  }

  const limit = BigInt(params.maxLagBytes);
  if (to !== null) {
    const named = standbys.find((standby) => standby.member.name === to);
    if (!named) {
      const role = states.find((state) => state.member.name === to)?.role ?? 'down';
      return refuse(`${to} is not a standby (${role})`, from, to, primary);
    }
    const problem = unfitness(primary, named, locate, limit);
    if (problem !== undefined) return refuse(`${to} ${problem}`, from, to, primary);
    return { kind: 'switch', primary, candidate: named, lagBytes: lagOf(primary, named), stale };
  }
  const healthy = standbys
    .filter((standby) => streamsFrom(standby, primary, locate) && !standby.paused)
    .sort((a, b) =>
      b.replayed > a.replayed
        ? 1
        : b.replayed < a.replayed
          ? -1
          : b.member.priority - a.member.priority || a.member.name.localeCompare(b.member.name),
    );
  const best = healthy[0];
  if (!best) return refuse(`no standby streams from ${from} with its replay running`, from, null, primary);
  const problem = unfitness(primary, best, locate, limit);
  if (problem !== undefined)
    return refuse(`no standby is caught up enough: the best, ${best.member.name}, ${problem}`, from, null, primary);
  return { kind: 'switch', primary, candidate: best, lagBytes: lagOf(primary, best), stale };
}

/** Why `standby` cannot take over from `primary` now; undefined when it can. */
function unfitness(primary: PrimaryState, standby: StandbyState, locate: ProbedCluster['locate'], limit: bigint): string | undefined {
  if (!streamsFrom(standby, primary, locate)) return `does not stream from ${primary.member.name}`;
  const lag = lagOf(primary, standby);
  if (lag > limit) return `is ${formatBytes(lag)} of WAL behind ${primary.member.name} (maxLagBytes ${formatBytes(limit)})`;
  // Its replay would never reach the primary's last position: the write stop would only time out.
  if (standby.paused) return 'has its WAL replay paused (pg_wal_replay_resume() it first)';
  return undefined;
}

/** True when `standby`'s WAL receiver streams from `primary` itself (not through another standby). */
function streamsFrom(standby: StandbyState, primary: PrimaryState, locate: ProbedCluster['locate']): boolean {
  return standby.streamingFrom !== undefined && locate(standby.streamingFrom).some((member) => member.name === primary.member.name);
}

function viewOf(primary: PrimaryState, standby: StandbyState, locate: ProbedCluster['locate']): CandidateView {
  return {
    name: standby.member.name,
    lagBytes: Number(lagOf(primary, standby)),
    streaming: streamsFrom(standby, primary, locate),
    paused: standby.paused,
  };
}
