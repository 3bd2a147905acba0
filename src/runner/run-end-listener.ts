import type { Logger } from 'pino';
import type { RunData } from '../core/run-data.js';
import type { RunOutcome } from './run-outcome.js';

/** Told once a run has ended for good, with its outcome (a drill records its result this way). */
export type RunEndListener = (run: { id: string; data: RunData; outcome: RunOutcome }) => Promise<void>;

/**
 * The `onEnd` of one run's outcome: tells `listener` without making the run wait on it or fail because of it (the
 * run's own record is already checkpointed); a failure is logged.
 */
export function runEndNotifier(listener: RunEndListener, id: string, data: RunData, logger: Logger): (outcome: RunOutcome) => void {
  return (outcome) => {
    listener({ id, data, outcome }).catch((error: unknown) => {
      logger.warn({ err: error, outcome }, 'could not record the end of the run');
    });
  };
}
