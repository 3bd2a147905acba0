import { recheckedSkipKinds } from '../../core/run-data.js';
import type { RunBudgets } from '../../state/run-budgets.js';
import type { SkipRechecks } from '../../state/skip-rechecks.js';
import { pass, type Gate } from './gate.js';

/**
 * Starts the playbook's cooldown on the target when an admitted run ends, however it ends, unless a step skipped it:
 * such a run found that acting would be wrong and changed nothing, and neither a cooldown nor its maxRuns entry may
 * hold back the failover that may be needed next. It is noted for the reconcile loop, which runs its episode again
 * while the alert stays active (src/reconcile/skip-recheck.ts).
 */
export function createCooldownGate(deps: {
  budgets: Pick<RunBudgets, 'finished' | 'standDown'> | undefined;
  rechecks?: Pick<SkipRechecks, 'note'>;
  /** When the cooldown starts (the run's end); the wall clock unless given. */
  now?: () => Date;
}): Gate {
  const { budgets, rechecks } = deps;
  const now = deps.now ?? (() => new Date());
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
          nowMs: now().getTime(),
        };
        // Admission already marked the cooldown (so that two runs cannot both pass it): a skipped run takes it back.
        await (run.data.skip === undefined ? budgets.finished(request) : budgets.standDown(request)).catch((error: unknown) => {
          run.logger.warn({ err: error }, 'could not start the cooldown');
        });
        if (rechecks && run.data.skip && recheckedSkipKinds.has(run.data.skip.kind) && !run.data.dryRun)
          await rechecks.note(run.id).catch((error: unknown) => {
            run.logger.warn({ err: error }, 'could not note the skipped run for a recheck');
          });
      };
      return Promise.resolve({ kind: 'pass', release });
    },
  };
}
