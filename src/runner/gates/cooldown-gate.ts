import type { RunBudgets } from '../../state/run-budgets.js';
import { pass, type Gate } from './gate.js';

/** Starts the playbook's cooldown on the target when an admitted run ends, however it ends. */
export function createCooldownGate(deps: { budgets: Pick<RunBudgets, 'finished'> | undefined }): Gate {
  const { budgets } = deps;
  return {
    name: 'cooldown',
    check(run) {
      if (!budgets) return Promise.resolve(pass);
      const release = async () => {
        if (run.data.admittedAt === undefined) return;
        await budgets
          .finished({ playbook: run.playbook.name, target: run.target, budget: run.playbook.budget, dryRun: run.data.dryRun })
          .catch((error: unknown) => {
            run.logger.warn({ err: error }, 'could not start the cooldown');
          });
      };
      return Promise.resolve({ kind: 'pass', release });
    },
  };
}
