import type { StepSkipKind } from '../../core/run-data.js';
import type { ConfirmParams } from './confirm-schema.js';

/** What one replica said about the primary in one round, or that it did not answer. */
export interface WitnessObservation {
  member: string;
  answered: boolean;
  /** It replicates from the primary in question: only such a replica can witness its death. */
  follows: boolean;
  /** It has lost the primary now: its link is down, or it heard nothing for longer than the primary's keepalive. */
  lost: boolean;
  /** How long it has been without the primary by its own account (ms), when it gives one. */
  lostForMs?: number;
  /** What it said, for the record (`link down 3 s`, `last I/O 0 s ago`, an error). */
  detail: string;
}

/** What one probe of the primary from remediator found. */
export interface PrimaryProbe {
  answered: boolean;
  /**
   * Nothing listens: the host refused the connection (ECONNREFUSED). Definitive where a timeout is not: a timeout
   * is also what a hung process, a cut link or a lossy one gives.
   */
  refused?: boolean;
  detail: string;
}

/** One round of observations: the primary probed by remediator, and each replica asked. */
export interface ObservationRound {
  /** Milliseconds since the epoch. */
  at: number;
  primary: PrimaryProbe;
  witnesses: WitnessObservation[];
}

/** Whether the primary's death is confirmed, and if not, why not. */
export type DeathVerdict =
  | { confirmed: true; lost: string[]; needed: number; reason: string }
  | { confirmed: false; kind: StepSkipKind; seeing: string[]; lost: string[]; needed: number; reason: string };

/** How many of `answering` witnesses a quorum needs. */
export function quorumSize(quorum: ConfirmParams['quorum'], answering: number): number {
  return quorum === 'majority' ? Math.floor(answering / 2) + 1 : quorum;
}

/**
 * Decides from the rounds (oldest first) whether the primary is dead. Pure. The primary is alive when it answered
 * remediator in any round. Otherwise each witness that answered the last round counts as having lost it for the
 * window when its own account says so (lostForMs ≥ window) or every round since it first said lost spans the
 * window; a quorum of them must have. No answering witness means nobody can confirm: no promotion.
 */
export function decideDeath(
  primaryName: string,
  rounds: readonly ObservationRound[],
  params: Pick<ConfirmParams, 'window' | 'quorum'>,
): DeathVerdict {
  const last = rounds.at(-1);
  const answeredAt = rounds.find((round) => round.primary.answered);
  if (answeredAt || !last) {
    return {
      confirmed: false,
      kind: 'primary-reachable',
      seeing: [],
      lost: [],
      needed: 0,
      reason: `${primaryName} answered remediator during confirmation${answeredAt ? ` (${answeredAt.primary.detail})` : ''}: it is not dead`,
    };
  }
  const witnesses = last.witnesses.filter((witness) => witness.answered && witness.follows);
  const needed = quorumSize(params.quorum, witnesses.length);
  const lost: string[] = [];
  const seeing: string[] = [];
  for (const witness of witnesses) {
    if (witness.lost && lostForMs(witness.member, rounds) >= params.window) lost.push(witness.member);
    else seeing.push(witness.member);
  }
  const window = `${params.window / 1000} s`;
  if (witnesses.length === 0) {
    return {
      confirmed: false,
      kind: 'death-unconfirmed',
      seeing,
      lost,
      needed,
      reason: `no replica that follows ${primaryName} answered: nobody can confirm that it is dead`,
    };
  }
  if (lost.length >= needed) {
    return {
      confirmed: true,
      lost,
      needed,
      reason: `${primaryName} did not answer remediator and ${lost.length} of ${witnesses.length} replicas lost it for ${window} or more (${lost.join(', ')}; quorum ${needed})`,
    };
  }
  return {
    confirmed: false,
    kind: 'primary-reachable-from-replicas',
    seeing,
    lost,
    needed,
    reason: `${primaryName} did not answer remediator, but only ${lost.length} of ${witnesses.length} replicas lost it for ${window} (quorum ${needed}); ${seeing.join(', ')} still see${seeing.length === 1 ? 's' : ''} it`,
  };
}

/** How long `member` has been without the primary: its own account, or the span of its trailing `lost` rounds. */
function lostForMs(member: string, rounds: readonly ObservationRound[]): number {
  const observed = rounds.map((round) => ({ at: round.at, seen: round.witnesses.find((witness) => witness.member === member) }));
  const latest = observed.at(-1);
  let since = latest?.at ?? 0;
  for (const { at, seen } of [...observed].reverse()) {
    if (!seen?.answered || !seen.lost) break;
    since = at;
  }
  return Math.max((latest?.at ?? 0) - since, latest?.seen?.lostForMs ?? 0);
}
