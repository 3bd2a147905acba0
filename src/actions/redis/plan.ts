import { permanentError, transientError } from '../../core/action.js';
import type { RedisMemberState } from './member-state.js';

/** The parameters of redis.failover that decide the plan. */
export interface FailoverPlanParams {
  promote: boolean;
  maxLagBytes: number;
  maxStaleness: number;
  failedAt?: string | undefined;
}

/** What redis.failover is to do, decided from the probed members alone. */
export type FailoverPlan =
  /** No primary reachable and promote: false: nothing to fence against, nothing to change. */
  | { kind: 'none'; reason: string }
  | {
      kind: 'converge';
      /** The member every other one must follow. */
      primary: RedisMemberState;
      /** Whether `primary` is a replica to promote first. */
      promote: boolean;
      /** Members to point at `primary`, in inventory order: fence for a primary (it refuses writes from then on). */
      followers: { state: RedisMemberState; fence: boolean }[];
      /** Reachable members that already replicate from `primary`. */
      following: number;
    };

/**
 * Decides a Redis failover from the live roles, never from the inventory's: a reachable primary stays (the recorded
 * one, else the most followed), else the freshest eligible replica is promoted; every other reachable member that
 * does not already replicate from it is made to. Throws the step's error when there is nothing safe to do.
 * Pure: `now` (ms since the epoch) stands for the clock.
 */
export function planFailover(input: {
  cluster: string;
  states: readonly RedisMemberState[];
  /** The primary an earlier run chose (the primary record), if any. */
  recorded: string | undefined;
  params: FailoverPlanParams;
  now: number;
}): FailoverPlan {
  const reachable = reachableMembers(input.cluster, input.states);
  const primaries = reachable.filter((state) => state.role === 'master');
  let primary: RedisMemberState;
  if (primaries.length > 0) primary = chooseAuthoritative(primaries, input.recorded);
  else if (!input.params.promote) return { kind: 'none', reason: 'no primary reachable; promote: false never promotes' };
  else primary = chooseReplica(reachable, input.params, input.now);
  return convergeOn(primary, reachable, primaries.length === 0);
}

/** The plan that makes every reachable member that does not follow `primary` yet its replica (a primary fenced). */
export function convergeOn(
  primary: RedisMemberState,
  reachable: readonly RedisMemberState[],
  promote: boolean,
): Extract<FailoverPlan, { kind: 'converge' }> {
  const follows = (state: RedisMemberState) => state.role === 'slave' && state.primary === primary.member.address;
  const followers = reachable
    .filter((state) => state !== primary && !follows(state))
    .map((state) => ({ state, fence: state.role === 'master' }));
  return { kind: 'converge', primary, promote, followers, following: reachable.filter(follows).length };
}

/** The members that answered; none at all is a transient error (they may come back). */
export function reachableMembers(cluster: string, states: readonly RedisMemberState[]): RedisMemberState[] {
  const reachable = states.filter((state) => state.reachable);
  if (reachable.length === 0) {
    throw transientError(
      `no member of ${cluster} is reachable: ${states.map((state) => `${state.member.name} (${state.error ?? 'down'})`).join(', ')}`,
    );
  }
  return reachable;
}

/** Among reachable primaries: the recorded one, else the most followed, then the furthest ahead, then priority. */
function chooseAuthoritative(primaries: readonly RedisMemberState[], recorded: string | undefined): RedisMemberState {
  const byRecord = primaries.find((state) => state.member.name === recorded);
  if (byRecord) return byRecord;
  return [...primaries].sort(
    (a, b) => b.connectedReplicas - a.connectedReplicas || b.offset - a.offset || b.member.priority - a.member.priority,
  )[0] as RedisMemberState;
}

/**
 * The freshest eligible replica, or a permanent error saying why none is. A replica whose link still reads up is
 * eligible: redis.failover reaches this only after confirming the primary dead (a hung primary leaves its replicas'
 * links up until repl-timeout), and such a replica is as fresh as any.
 */
function chooseReplica(replicas: readonly RedisMemberState[], params: FailoverPlanParams, now: number): RedisMemberState {
  const linkLostAt = (state: RedisMemberState) => (state.linkUp ? now : now - (state.linkDownSeconds ?? 0) * 1000);
  const failedAt = params.failedAt === undefined ? Math.max(...replicas.map(linkLostAt)) : Date.parse(params.failedAt);
  const freshest = Math.max(...replicas.map((state) => state.offset));
  const reasons: string[] = [];
  const eligible = replicas.filter((state) => {
    const lag = freshest - state.offset;
    const lostAt = linkLostAt(state);
    if (lag > params.maxLagBytes) {
      reasons.push(`${state.member.name} is ${lag} bytes behind ${String(freshest)} (max ${params.maxLagBytes})`);
      return false;
    }
    if (lostAt < failedAt - params.maxStaleness) {
      reasons.push(
        `${state.member.name} lost its primary ${Math.round((failedAt - lostAt) / 1000)} s before the failure (max ${params.maxStaleness / 1000} s)`,
      );
      return false;
    }
    return true;
  });
  const best = eligible.sort(
    (a, b) => b.offset - a.offset || b.member.priority - a.member.priority || a.member.name.localeCompare(b.member.name),
  )[0];
  if (!best) throw permanentError(`no replica is safe to promote: ${reasons.join('; ')}`);
  return best;
}
