import type { TargetHolds } from '../../state/target-holds.js';
import { pass, type Gate } from './gate.js';

/** A remediation on a held target is skipped with the hold's reason (a person is working on it). */
export function createHoldGate(deps: { holds: Pick<TargetHolds, 'get'> | undefined; now: () => Date }): Gate {
  return {
    name: 'hold',
    async check(run) {
      const hold = await deps.holds?.get(run.target);
      if (!hold) return pass;
      return {
        kind: 'skip',
        skip: { kind: 'hold', reason: `target ${run.target} is held until ${hold.until}: ${hold.reason}`, at: deps.now().toISOString() },
        log: { fields: { hold }, message: 'run skipped: target held' },
      };
    },
  };
}
