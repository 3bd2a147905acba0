import { firstPrimary, type Scenario } from './scenario.js';

/** SIGKILL of the primary; restarted with its data once the failover is done (it must come back fenced). */
export function killScenario(): Scenario {
  return {
    name: 'kill',
    network: 'loopback',
    fault: `${firstPrimary} (primary) killed`,
    restored: `${firstPrimary} restarted`,
    holdUntil: 'failover',
    durationMs: 0,
    settleMs: 10_000,
    expectsFailover: true,
    inject: (lab) => lab.crash(firstPrimary),
    restore: (lab) => lab.revive(firstPrimary),
  };
}
