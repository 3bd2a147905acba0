import { labNodes } from '../lab.js';
import { firstPrimary, netOf, type Scenario } from './scenario.js';

/**
 * A bad link between the monitor and the primary for `lossyMs` (the CLI: 60 s): `loss` of the packets each way and
 * `delayMs` added each way to the monitor's connections to it. Probes time out now and then; nothing fails over.
 */
export function lossyScenario(options: { lossyMs?: number; loss?: number; delayMs?: number } = {}): Scenario {
  const loss = options.loss ?? 0.3;
  const delayMs = options.delayMs ?? 200;
  const lossyMs = options.lossyMs ?? 60_000;
  return {
    name: 'lossy',
    network: 'namespaces',
    fault: `${Math.round(loss * 100)} % loss and ${delayMs} ms latency between ${labNodes.monitor} and ${firstPrimary} (primary) for ${lossyMs / 1000} s`,
    restored: `the link between ${labNodes.monitor} and ${firstPrimary} healed`,
    holdUntil: 'duration',
    durationMs: lossyMs,
    settleMs: 10_000,
    expectsFailover: false,
    inject: (lab) => netOf(lab).lossy(firstPrimary, labNodes.monitor, { loss, delayMs, ports: [lab.member(firstPrimary).port] }),
    restore: (lab) => netOf(lab).heal(firstPrimary, labNodes.monitor),
  };
}
