import type { SkipRechecks } from '../../state/skip-rechecks.js';
import type { TargetHolds } from '../../state/target-holds.js';
import { pass, type Gate } from './gate.js';

/**
 * A remediation on a held target is skipped with the hold's reason (a person is working on it). The hold keeps
 * automation away, not the operator: a run an operator started by hand (a planned switchover while patching, as
 * Patroni allows one in maintenance mode) goes on, and says so. A skipped run is noted for the reconcile loop,
 * which runs its episode again once the hold ends if the alert is still active: the failure did not go away
 * because someone was patching, and no new notification would come (a repeat has the same job id).
 */
export function createHoldGate(deps: {
  holds: Pick<TargetHolds, 'get'> | undefined;
  rechecks?: Pick<SkipRechecks, 'note'> | undefined;
  now: () => Date;
}): Gate {
  return {
    name: 'hold',
    async check(run) {
      const hold = await deps.holds?.get(run.target);
      if (!hold) return pass;
      if (run.data.source === 'manual') {
        run.logger.warn({ hold, startedBy: run.data.startedBy }, 'target held, but this run was started by hand: it goes on');
        return pass;
      }
      if (deps.rechecks && !run.data.dryRun)
        await deps.rechecks.note(run.id).catch((error: unknown) => {
          run.logger.warn({ err: error }, 'could not note the held run for a recheck');
        });
      return {
        kind: 'skip',
        skip: { kind: 'hold', reason: `target ${run.target} is held until ${hold.until}: ${hold.reason}`, at: deps.now().toISOString() },
        log: { fields: { hold }, message: 'run skipped: target held' },
      };
    },
  };
}
