import type { GlobalBudget, RunBudgets } from '../../state/run-budgets.js';
import { pass, type Gate } from './gate.js';

/** The run's cooldown, run budget and the fleet's blast radius: a run over any of them is skipped. */
export function createBudgetsGate(deps: {
  budgets: Pick<RunBudgets, 'admit'> | undefined;
  global: GlobalBudget | undefined;
  now: () => Date;
}): Gate {
  const global = deps.global ?? { maxConcurrentRuns: 0, maxTargets: 0, targetsWindowMs: 0 };
  return {
    name: 'budgets',
    async check(run) {
      if (!deps.budgets) return pass;
      const decision = await deps.budgets.admit({
        runId: run.id,
        playbook: run.playbook.name,
        target: run.target,
        budget: run.playbook.budget,
        global,
        dryRun: run.data.dryRun,
        // The pipeline's clock, not the wall's: the playbook simulator replays alerts at their own times.
        nowMs: deps.now().getTime(),
      });
      if (decision.admitted) return pass;
      return {
        kind: 'skip',
        skip: { kind: decision.kind, reason: decision.reason, at: deps.now().toISOString() },
        log: { fields: { budget: decision.kind }, message: `run skipped: ${decision.reason}` },
      };
    },
  };
}
