import { firstPrimary, type Scenario } from './scenario.js';

/**
 * SIGSTOP of the primary for `pauseMs` (the CLI: 40 s), then SIGCONT: a hung process is as down as a dead one, so it
 * fails over; the primary that wakes must refuse writes (no replica acknowledges them) until the failback fences it.
 * With `blip`, a pause too short to fail over: 3 s, and no failover.
 */
export function pauseScenario(options: { pauseMs?: number; blip?: boolean } = {}): Scenario {
  const blip = options.blip ?? false;
  const pauseMs = options.pauseMs ?? (blip ? 3000 : 40_000);
  return {
    name: blip ? 'blip' : 'pause',
    network: 'loopback',
    fault: `${firstPrimary} (primary) paused (SIGSTOP) for ${pauseMs / 1000} s`,
    restored: `${firstPrimary} resumed (SIGCONT)`,
    holdUntil: blip ? 'duration' : 'failover',
    durationMs: pauseMs,
    settleMs: 10_000,
    expectsFailover: !blip,
    inject(lab) {
      lab.signal(firstPrimary, 'SIGSTOP');
      return Promise.resolve();
    },
    restore(lab) {
      lab.signal(firstPrimary, 'SIGCONT');
      return Promise.resolve();
    },
  };
}
