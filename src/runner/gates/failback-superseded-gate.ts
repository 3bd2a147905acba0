import type { FailbackState } from '../../state/failback-state.js';
import { pass, type Gate } from './gate.js';

/** A failback whose alert fired again after it resolved is cancelled: the fault is back, failing back would undo the fix. */
export function createFailbackSupersededGate(deps: { failback: Pick<FailbackState, 'newestFiring'> | undefined }): Gate {
  return {
    name: 'failback-superseded',
    async check(run) {
      const newest = await deps.failback?.newestFiring(run.playbook.name, run.data.alert.fingerprint);
      if (newest === undefined || newest <= Date.parse(run.data.alert.startsAt)) return pass;
      return {
        kind: 'cancel',
        log: {
          fields: { newestFiring: new Date(newest).toISOString() },
          message: 'failback skipped: the alert fired again after it resolved',
        },
      };
    },
  };
}
