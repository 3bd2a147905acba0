import { firstPrimary, netOf, type Scenario } from './scenario.js';

/**
 * The primary loses everyone (the monitor, its replicas, the client): exactly one failover. It is healed once the
 * failover is done and has held for at least `isolateMs`; the returning primary must refuse writes (its replicas
 * follow the new primary) until the failback fences it.
 */
export function isolatePrimaryScenario(options: { isolateMs?: number } = {}): Scenario {
  return {
    name: 'isolate-primary',
    network: 'namespaces',
    fault: `${firstPrimary} (primary) isolated from every node`,
    restored: `${firstPrimary} rejoined`,
    holdUntil: 'failover',
    durationMs: options.isolateMs ?? 0,
    settleMs: 10_000,
    expectsFailover: true,
    inject: (lab) => netOf(lab).isolate(firstPrimary),
    restore: (lab) => netOf(lab).rejoin(firstPrimary),
  };
}
