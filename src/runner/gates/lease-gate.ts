import type { TargetLocks } from '../../state/target-lock.js';
import { pass, type Gate } from './gate.js';

/**
 * Takes the target's lease: one run acts on a target at a time, fleet-wide. Another run acting on it makes this one
 * wait in the delayed set, not in a worker slot.
 */
export function createLeaseGate(deps: { locks: TargetLocks | undefined; retryMs: number }): Gate {
  return {
    name: 'lease',
    async check(run) {
      if (!deps.locks) return pass;
      const lease = await deps.locks.acquire(run.target, run.id);
      if (!lease) return { kind: 'wait', untilMs: Date.now() + deps.retryMs, why: `target ${run.target} is busy` };
      run.held.lease = lease;
      const release = () =>
        lease.release().catch((error: unknown) => {
          run.logger.warn({ err: error }, 'could not release the target lease');
        });
      return { kind: 'pass', release };
    },
  };
}
