import type { InventoryCluster } from '../../inventory/inventory.js';
import type { RedisMemberState } from './member-state.js';
import { convergeOn, type FailoverPlan } from './plan.js';

/** The parameters of redis.switchover that decide the plan. */
export interface SwitchoverPlanParams {
  /** The member to promote (an inventory name); '' chooses the best caught-up replica. */
  to: string;
  /** A candidate further behind the primary than this, before writes stop, is refused. */
  maxLagBytes: number;
}

/** What redis.switchover is to do, decided from the probed members alone. */
export type SwitchoverPlan =
  /** Nothing is changed: the run ends skipped with `reason`; `details` is what was observed. */
  | { kind: 'refuse'; reason: string; details: Record<string, unknown> }
  /**
   * `primary` already is the member asked for (or the one an interrupted switchover promoted): no write stop, only
   * the members that do not follow it yet are pointed at it (an old primary fenced), as redis.failover converges.
   */
  | { kind: 'converge'; primary: RedisMemberState; plan: Extract<FailoverPlan, { kind: 'converge' }> }
  | {
      kind: 'switch';
      primary: RedisMemberState;
      candidate: RedisMemberState;
      /** Every other reachable member, in inventory order: made replicas of `candidate` after the promotion. */
      others: RedisMemberState[];
      /** How far `candidate` was behind `primary` when probed. */
      lagBytes: number;
    };

/**
 * Decides a Redis switchover from the live roles. `to` is matched against the inventory's member names only (a
 * label value, never an address). With exactly one primary, the candidate is `to`, or the replica of it that is
 * furthest ahead (then priority, then name), and must follow the primary with its link up, within `maxLagBytes`.
 * With several primaries (a switchover interrupted between the promotion and the fencing) the one asked for, else
 * the recorded one, is kept and the others fenced; with none the switchover is refused (that is a failover).
 * Pure.
 */
export function planSwitchover(input: {
  cluster: InventoryCluster;
  states: readonly RedisMemberState[];
  /** The primary remediator recorded last (set before a switchover promotes), if any. */
  recorded: string | undefined;
  params: SwitchoverPlanParams;
}): SwitchoverPlan {
  const { cluster, states, params } = input;
  const details = { to: params.to, members: states.map(summary) };
  if (params.to !== '' && !cluster.members.some((member) => member.name === params.to))
    return { kind: 'refuse', reason: `no member "${params.to}" in cluster ${cluster.name}`, details };
  const reachable = states.filter((state) => state.reachable);
  const primaries = reachable.filter((state) => state.role === 'master');
  const [primary, ...otherPrimaries] = primaries;
  if (!primary) return { kind: 'refuse', reason: `no primary of ${cluster.name} answers: that is a failover, not a switchover`, details };
  if (otherPrimaries.length > 0) {
    const keep =
      primaries.find((state) => state.member.name === params.to) ?? primaries.find((state) => state.member.name === input.recorded);
    if (!keep) {
      const names = primaries.map((state) => state.member.name).join(', ');
      return {
        kind: 'refuse',
        reason: `several members of ${cluster.name} are primaries (${names}) and none is the one asked for or recorded`,
        details,
      };
    }
    return converge(keep, reachable);
  }
  if (primary.member.name === params.to) return converge(primary, reachable);
  const reasons = new Map<RedisMemberState, string>();
  for (const state of reachable) {
    if (state === primary) continue;
    const problem = ineligibility(state, primary, params.maxLagBytes);
    if (problem !== undefined) reasons.set(state, problem);
  }
  let candidate: RedisMemberState | undefined;
  if (params.to !== '') {
    candidate = reachable.find((state) => state.member.name === params.to);
    if (!candidate) return { kind: 'refuse', reason: `${params.to} does not answer`, details };
    const problem = reasons.get(candidate);
    if (problem !== undefined) return { kind: 'refuse', reason: problem, details: { ...details, from: primary.member.name } };
  } else {
    candidate = reachable
      .filter((state) => state !== primary && !reasons.has(state))
      .sort((a, b) => applied(b) - applied(a) || b.member.priority - a.member.priority || a.member.name.localeCompare(b.member.name))[0];
    if (!candidate) {
      const why = reasons.size === 0 ? 'it has no reachable replica' : [...reasons.values()].join('; ');
      return { kind: 'refuse', reason: `no replica of ${primary.member.name} is caught up enough: ${why}`, details };
    }
  }
  return {
    kind: 'switch',
    primary,
    candidate,
    others: reachable.filter((state) => state !== primary && state !== candidate),
    lagBytes: Math.max(0, primary.offset - applied(candidate)),
  };
}

/** What a replica applied (what a promotion keeps). */
const applied = (state: RedisMemberState) => state.appliedOffset ?? state.offset;

/** Why `state` cannot take over from `primary`, or undefined when it can. */
function ineligibility(state: RedisMemberState, primary: RedisMemberState, maxLagBytes: number): string | undefined {
  const name = state.member.name;
  if (state.role !== 'slave') return `${name} is not a replica`;
  if (state.primary !== primary.member.address) return `${name} replicates from ${state.primary ?? '?'}, not from ${primary.member.name}`;
  if (state.linkUp !== true) return `${name}'s link to ${primary.member.name} is down`;
  const lag = primary.offset - applied(state);
  if (lag > maxLagBytes) return `${name} is ${lag} bytes behind ${primary.member.name} (max ${maxLagBytes})`;
  return undefined;
}

/** Keeps `primary` (see convergeOn). */
function converge(primary: RedisMemberState, reachable: readonly RedisMemberState[]): SwitchoverPlan {
  return { kind: 'converge', primary, plan: convergeOn(primary, reachable, false) };
}

/** A member as a refusal's details show it (small: it is stored in the run). */
function summary(state: RedisMemberState): Record<string, unknown> {
  if (!state.reachable) return { name: state.member.name, reachable: false };
  return {
    name: state.member.name,
    role: state.role,
    offset: state.offset,
    ...(state.role === 'slave' ? { primary: state.primary, linkUp: state.linkUp } : {}),
  };
}
