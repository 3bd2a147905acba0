import { UnrecoverableError } from 'bullmq';
import { AppError, errorCodes, errorMessage, isAppError } from '../core/errors/index.js';
import type { RunData, SkipRecord } from '../core/run-data.js';
import type { RemediatorMetrics } from '../metrics/create-metrics.js';
import { rtoBreached, runDurations } from '../runs/run-durations.js';

/** How a run ended, as remediator_runs_total counts it. */
export type RunOutcome = 'succeeded' | 'failed' | 'dry_run' | 'cancelled' | 'skipped';

/** The metrics a run's outcome feeds. */
export type RunOutcomeMetrics = Pick<
  RemediatorMetrics,
  'runs' | 'runsSkipped' | 'runDetection' | 'runDispatch' | 'runAction' | 'runRecovery' | 'rtoBreaches'
>;

const permanentCodes = new Set<string>([
  errorCodes.STEP_PERMANENT,
  errorCodes.STEP_PARAMS_INVALID,
  errorCodes.TEMPLATE_UNKNOWN_REFERENCE,
  errorCodes.PLAYBOOK_NOT_FOUND,
]);

/** Whether an attempt's error fails the run at once, without the attempts left: retrying cannot fix it. */
export function isPermanent(error: unknown): boolean {
  return error instanceof UnrecoverableError || (isAppError(error) && permanentCodes.has(error.code));
}

/**
 * How one attempt of a run ends: `finish` counts the outcome (and times a remediation's phases); `fail` throws the
 * error BullMQ acts on (UnrecoverableError: no retry), counting the run as failed when no attempt follows; `ended`
 * tells whether the run itself ended (no attempt follows).
 */
export function createRunOutcome(
  deps: { metrics: RunOutcomeMetrics; now: () => Date; onEnd?: (outcome: RunOutcome) => void },
  data: RunData,
  lastAttempt: boolean,
) {
  const { metrics, now } = deps;
  let ended = false;

  const finish = (outcome: RunOutcome, skipKind?: SkipRecord['kind']): void => {
    ended = true;
    metrics.runs.inc({ playbook: data.playbook, outcome });
    deps.onEnd?.(outcome);
    if (skipKind !== undefined) metrics.runsSkipped.inc({ playbook: data.playbook, reason: skipKind });
    // A skipped run (even one whose notification failed for good) acted on nothing: no recovery, no RTO breach.
    if (data.phase === 'remediate' && data.skip === undefined && (outcome === 'succeeded' || outcome === 'failed' || outcome === 'dry_run'))
      observeTimes(outcome);
  };

  const fail = (error: unknown): never => {
    const permanent = isPermanent(error);
    if (permanent || lastAttempt) finish('failed');
    if (error instanceof UnrecoverableError) throw error;
    // Message carries the code so the queue UI and /api/runs show why without digging into logs.
    const message = isAppError(error) ? `${error.code}: ${error.message}` : errorMessage(error);
    if (permanent) throw new UnrecoverableError(message);
    throw new AppError(isAppError(error) ? error.code : errorCodes.STEP_FAILED, message, { cause: error });
  };

  /** Feeds the run histograms and the RTO breach counter from a finished remediation run. */
  function observeTimes(outcome: 'succeeded' | 'failed' | 'dry_run'): void {
    const ended = { ...data, finishedAt: data.finishedAt ?? now().toISOString() };
    const durations = runDurations(ended, outcome === 'succeeded');
    const labels = { playbook: data.playbook, outcome };
    if (durations.detectionSeconds !== undefined) metrics.runDetection.observe(labels, durations.detectionSeconds);
    if (durations.dispatchSeconds !== undefined) metrics.runDispatch.observe(labels, durations.dispatchSeconds);
    if (durations.actionSeconds !== undefined) metrics.runAction.observe(labels, durations.actionSeconds);
    if (durations.recoverySeconds !== undefined) metrics.runRecovery.observe(labels, durations.recoverySeconds);
    // A dry run recovers nothing, so it cannot breach.
    if (outcome !== 'dry_run' && rtoBreached(data.rtoMs, durations, outcome)) metrics.rtoBreaches.inc({ playbook: data.playbook });
  }

  return { finish, fail, ended: () => ended };
}
