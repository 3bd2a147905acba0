/** What the sentinels report, counted: the master most of them name other than the one failed over from. */
export interface MasterTally {
  /** The master failed over from. */
  previous: string;
  /** The address most sentinels report other than `previous` (the first reported on a tie), if any. */
  candidate: string | undefined;
  /** How many sentinels report `candidate`. */
  agreeing: number;
  /** How many of the listed sentinels must agree: more than half. */
  majority: number;
  /** How many sentinels are listed. */
  sentinels: number;
}

/** Counts the sentinels' reports (undefined: unreachable or confused, which counts towards nothing). */
export function tallyReports(reports: readonly (string | undefined)[], previous: string): MasterTally {
  const votes = new Map<string, number>();
  for (const report of reports) if (report !== undefined && report !== previous) votes.set(report, (votes.get(report) ?? 0) + 1);
  const [candidate, agreeing = 0] = [...votes.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
  return { previous, candidate, agreeing, majority: Math.floor(reports.length / 2) + 1, sentinels: reports.length };
}

/**
 * Why the failover is not confirmed yet, or undefined once it is: a majority of the sentinels reports the candidate
 * and the candidate answers ROLE as a master. `role` is the candidate's answer (unasked when there is no candidate).
 */
export function unconfirmedReason(tally: MasterTally, role: string | undefined): string | undefined {
  if (tally.candidate === undefined) return `no sentinel reports a master other than ${tally.previous} yet`;
  if (role === 'master' && tally.agreeing >= tally.majority) return undefined;
  return `${tally.agreeing} of ${tally.sentinels} sentinels report ${tally.candidate} (need ${tally.majority}), its ROLE is ${String(role)}`;
}
