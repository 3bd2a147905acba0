import type { ProbeRound } from './write-probe.js';

/** The most members that accepted the write probe's write in one round: above 1, two primaries took writes at once. */
export function primariesSeenAtOnce(rounds: readonly ProbeRound[]): number {
  return rounds.reduce((most, round) => Math.max(most, Object.keys(round.accepted).length), 0);
}

/**
 * Writes acknowledged by a member after another member was promoted: at each acknowledgement, the primary is the
 * member promoted last before it (the first primary until a promotion), and a write acknowledged by any other
 * member went to a stale primary, a write a failover discards.
 */
export function writesAcceptedByStalePrimary(rounds: readonly ProbeRound[], promotions: readonly { member: string; at: number }[]): number {
  const ordered = [...promotions].sort((a, b) => a.at - b.at);
  let stale = 0;
  for (const round of rounds) {
    for (const [member, at] of Object.entries(round.accepted)) {
      const current = ordered.filter((promotion) => promotion.at <= at).at(-1);
      if (current !== undefined && current.member !== member) stale++;
    }
  }
  return stale;
}
