import { pass, type Gate } from './gate.js';

/** The kill switch: while it is on, a run waits in the delayed set (holding no worker slot) and tries again. */
export function createPauseGate(deps: { isPaused: (() => Promise<boolean>) | undefined; retryMs: number }): Gate {
  return {
    name: 'pause',
    async check() {
      if (!(await deps.isPaused?.())) return pass;
      return { kind: 'wait', untilMs: Date.now() + deps.retryMs, why: 'remediation is paused' };
    },
  };
}
