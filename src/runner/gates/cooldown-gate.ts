import type { RunBudgets } from '../../state/run-budgets.js';
import { pass, type Gate } from './gate.js';

/**
 * Starts the playbook's cooldown on the target when an admitted run ends, however it ends, unless a step skipped it:
 * such a run found that acting would be wrong and changed nothing, and a cooldown would hold back the failover that
 * may be needed next (the run still counts against maxRuns: a flapping partition is a person's problem too).
 */
export function createCooldownGate(deps: { budgets: Pick<RunBudgets, 'finished' | 'standDown'> | undefined }): Gate {
  const { budgets } = deps;
  return {
    name: 'cooldown',
    check(run) {
      if (!budgets) return Promise.resolve(pass);
      const release = async () => {
        if (run.data.admittedAt === undefined) return;
        const request = {
          runId: run.id,
          playbook: run.playbook.name,
          target: run.target,
          budget: run.playbook.budget,
          dryRun: run.data.dryRun,
        };
        // Admission already marked the cooldown (so that two runs cannot both pass it): a skipped run takes it back.
        await (run.data.skip === undefined ? budgets.finished(request) : budgets.standDown(request)).catch((error: unknown) => {
          run.logger.warn({ err: error }, 'could not start the cooldown');
        });
      };
      return Promise.resolve({ kind: 'pass', release });
    },
  };
}
