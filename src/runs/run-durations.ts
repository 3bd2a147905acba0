import type { RunData } from '../core/run-data.js';

/** The phases of a run in seconds, as the runs API shows them and the run histograms observe them. */
export interface RunDurations {
  /** Alert startsAt → webhook received. Prometheus sets startsAt after the rule's `for:`, so the fault itself is earlier. */
  detectionSeconds?: number;
  /** Webhook received → first step started. */
  dispatchSeconds?: number;
  /** First step started → last step finished. */
  actionSeconds?: number;
  /** Alert startsAt → verified recovery; only for a run whose steps all succeeded. */
  recoverySeconds?: number;
}

const seconds = (fromMs: number, toMs: number) =>
  Number.isFinite(fromMs) && Number.isFinite(toMs) && toMs >= fromMs ? (toMs - fromMs) / 1000 : undefined;

/** Computes the phases of a run from its recorded times; `recovered` says whether it ended in a verified recovery. */
export function runDurations(
  data: Pick<RunData, 'alert' | 'receivedAt' | 'firstStartedAt' | 'finishedAt'>,
  recovered: boolean,
): RunDurations {
  const startsAt = Date.parse(data.alert.startsAt);
  const received = Date.parse(data.receivedAt);
  const first = data.firstStartedAt === undefined ? Number.NaN : Date.parse(data.firstStartedAt);
  const end = data.finishedAt === undefined ? Number.NaN : Date.parse(data.finishedAt);
  // An alert cannot start after the webhook that announced it: such a startsAt (clock skew, a bad sender) times
  // neither detection nor recovery, rather than a recovery shorter than remediator's own part of it.
  const detectionSeconds = seconds(startsAt, received);
  const all: Record<keyof RunDurations, number | undefined> = {
    detectionSeconds,
    dispatchSeconds: seconds(received, first),
    actionSeconds: seconds(first, end),
    recoverySeconds: recovered && detectionSeconds !== undefined ? seconds(startsAt, end) : undefined,
  };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

/** Whether a finished run breached its playbook's RTO: it recovered later than the objective, or not at all. */
export function rtoBreached(rtoMs: number | undefined, durations: RunDurations, outcome: 'succeeded' | 'failed'): boolean | undefined {
  if (rtoMs === undefined) return undefined;
  if (outcome === 'failed') return true;
  return durations.recoverySeconds !== undefined && durations.recoverySeconds * 1000 > rtoMs;
}
