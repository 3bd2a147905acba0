import { labNodes } from '../lab.js';
import { firstPrimary, netOf, type Scenario } from './scenario.js';

/**
 * The monitor (remediator, the exporter, Prometheus) loses the primary while its replicas and the client keep it: the
 * alert fires, and the failover run must find the primary alive through the replicas and skip
 * (`primary-reachable-from-replicas`). The cut holds until that run ended and for at least `cutMs`.
 */
export function partitionRemediatorScenario(options: { cutMs?: number } = {}): Scenario {
  return {
    name: 'partition-remediator',
    network: 'namespaces',
    fault: `${labNodes.monitor} (remediator, exporter) cut off from ${firstPrimary} (primary)`,
    restored: `${labNodes.monitor} and ${firstPrimary} healed`,
    holdUntil: 'run',
    durationMs: options.cutMs ?? 10_000,
    settleMs: 10_000,
    expectsFailover: false,
    inject: (lab) => netOf(lab).cut(labNodes.monitor, firstPrimary),
    restore: (lab) => netOf(lab).heal(labNodes.monitor, firstPrimary),
  };
}
