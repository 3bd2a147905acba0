import type { Logger } from 'pino';
import { skipRun } from '../../core/action.js';
import { sleep } from '../../util/sleep.js';
import type { ConfirmParams } from './confirm-schema.js';
import { decideDeath, type DeathVerdict, type ObservationRound, type PrimaryProbe, type WitnessObservation } from './death-verdict.js';

/** How a failover action observes its cluster for the confirmation: one call per round, each bounded by its own timeout. */
export interface DeathObserver {
  /** The primary whose death is to be confirmed. */
  primary: string;
  /** Probes the primary from remediator (bounded by `probeTimeout`); never throws. */
  probePrimary(): Promise<PrimaryProbe>;
  /** Asks every replica about the primary (each bounded by `probeTimeout`); never throws. */
  askWitnesses(): Promise<WitnessObservation[]>;
}

/** What the run records about a confirmation: the verdict and every round, with times relative to the first. */
export interface ConfirmationRecord {
  confirmed: boolean;
  reason: string;
  quorum: number;
  lost: string[];
  seeing: string[];
  rounds: { afterMs: number; primary: string; witnesses: Record<string, string> }[];
}

/**
 * Observes the primary and its replicas `probes` times over `window` and decides (decideDeath). Stops early when
 * the primary answers, and when it is dead beyond doubt: at least two probes refused (no process listens: not a
 * hang, not a cut link) and a quorum of replicas lost it for the whole window by their own account (a link down for
 * that long). A hung or cut-off primary only times out, so it is observed for the whole window: a blip shorter
 * than the alert's `for:` plus the window never promotes. Resolves with the record when the death is confirmed; throws skipRun (the run ends skipped,
 * the record as the step's output) when it is not.
 */
export async function confirmDeath(
  observer: DeathObserver,
  params: ConfirmParams,
  context: { signal: AbortSignal; logger: Logger; now?: () => number },
): Promise<ConfirmationRecord> {
  const now = context.now ?? Date.now;
  const rounds: ObservationRound[] = [];
  const started = now();
  const every = params.probes > 1 ? params.window / (params.probes - 1) : 0;
  // The schedule counts from the first round as it was observed, not from `started`: a first round that began a
  // moment late (a busy event loop) would otherwise leave the rounds spanning less than the window, and a death
  // observed in every round would go unconfirmed.
  let origin: number | undefined;
  for (let index = 0; index < params.probes; index++) {
    // Rounds keep to their schedule: a slow round (probe timeouts) does not push the later ones back.
    // A timer may fire a millisecond early: the last round must not fall short of the window it is to span.
    if (origin !== undefined) {
      const due = origin + index * every;
      while (now() < due) await sleep(due - now(), context.signal);
    }
    context.signal.throwIfAborted();
    const at = now();
    origin ??= at;
    const [primary, witnesses] = await Promise.all([observer.probePrimary(), observer.askWitnesses()]);
    rounds.push({ at, primary, witnesses });
    if (primary.answered) break;
    if (rounds.length >= 2 && rounds.every((round) => round.primary.refused) && decideDeath(observer.primary, rounds, params).confirmed)
      break;
  }
  const verdict = decideDeath(observer.primary, rounds, params);
  const record = recordOf(verdict, rounds, started);
  context.logger.warn(
    { primary: observer.primary, confirmation: record },
    verdict.confirmed ? 'death confirmed' : 'death not confirmed: not promoting',
  );
  if (!verdict.confirmed) throw skipRun(verdict.kind, verdict.reason, { confirmation: record });
  return record;
}

function recordOf(verdict: DeathVerdict, rounds: readonly ObservationRound[], started: number): ConfirmationRecord {
  return {
    confirmed: verdict.confirmed,
    reason: verdict.reason,
    quorum: verdict.needed,
    lost: verdict.lost,
    seeing: verdict.confirmed ? [] : verdict.seeing,
    rounds: rounds.map((round) => ({
      afterMs: round.at - started,
      primary: round.primary.detail,
      witnesses: Object.fromEntries(round.witnesses.map((witness) => [witness.member, witness.detail])),
    })),
  };
}
