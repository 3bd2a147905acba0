import { AppError, errorCodes } from '../../core/errors/index.js';
import type { RunBudgets } from '../../state/run-budgets.js';
import type { Gate } from './gate.js';

/** The renewal's dependencies. */
export interface RenewalDeps {
  budgets: Pick<RunBudgets, 'acquireSlot'> | undefined;
  maxConcurrentRuns: number;
  slotTtlMs: number;
  /** A third of the lease's TTL: it outlives two missed renewals. */
  everyMs: number;
}

/**
 * Renews the slot and the lease the run holds, from the moment both are held until it ends: slow guards must not
 * let them lapse under the run. A lease found taken over aborts `held.leaseLost`, which stops the running step.
 */
export function createRenewalGate(deps: RenewalDeps): Gate {
  return {
    name: 'renewal',
    check(run) {
      const { held, logger } = run;
      const lease = held.lease;
      const renewal = setInterval(() => {
        if (held.slot) {
          void deps.budgets?.acquireSlot(run.id, deps.maxConcurrentRuns, deps.slotTtlMs).then(
            (kept) => {
              if (!kept) logger.warn('lost the concurrency slot (it lapsed and was taken); the run goes on');
            },
            (error: unknown) => {
              logger.warn({ err: error }, 'could not renew the concurrency slot');
            },
          );
        }
        if (!lease) return;
        void lease.renew().then(
          (kept) => {
            if (!kept) held.leaseLost.abort(new AppError(errorCodes.LOCK_LOST, `lost the lease on ${run.target}`));
          },
          (error: unknown) => {
            logger.warn({ err: error }, 'could not renew the target lease');
          },
        );
      }, deps.everyMs);
      return Promise.resolve({
        kind: 'pass',
        release: () => {
          clearInterval(renewal);
          return Promise.resolve();
        },
      });
    },
  };
}
