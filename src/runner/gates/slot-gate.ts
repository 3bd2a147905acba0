import type { RunBudgets } from '../../state/run-budgets.js';
import { pass, type Gate } from './gate.js';

/** The concurrency slot gate's dependencies. */
export interface SlotGateDeps {
  budgets: Pick<RunBudgets, 'acquireSlot' | 'releaseSlot'> | undefined;
  /** At most this many runs act at once, fleet-wide; 0: no limit. */
  maxConcurrentRuns: number;
  /** What a run that has not acted yet does when every slot is taken: skip, or wait for one. */
  whenFull: 'wait' | 'skip';
  /** How long a slot lives without renewal. */
  ttlMs: number;
  retryMs: number;
  now: () => Date;
}

/** Takes one of the fleet's concurrency slots for the run; waits (or skips, by configuration) when all are taken. */
export function createSlotGate(deps: SlotGateDeps): Gate {
  const { budgets, maxConcurrentRuns } = deps;
  return {
    name: 'slot',
    async check(run) {
      if (!budgets || maxConcurrentRuns <= 0) return pass;
      if (await budgets.acquireSlot(run.id, maxConcurrentRuns, deps.ttlMs)) {
        run.held.slot = true;
        const release = () =>
          budgets.releaseSlot(run.id).catch((error: unknown) => {
            run.logger.warn({ err: error }, 'could not release the concurrency slot');
          });
        return { kind: 'pass', release };
      }
      const reason = `concurrency: ${maxConcurrentRuns} runs are already acting`;
      // A run that already acted waits for a slot even in skip mode: skipping it would leave half a failover done.
      if (deps.whenFull === 'skip' && run.data.admittedAt === undefined)
        return { kind: 'skip', skip: { kind: 'concurrency', reason, at: deps.now().toISOString() } };
      return { kind: 'wait', untilMs: Date.now() + deps.retryMs, why: reason };
    },
  };
}
