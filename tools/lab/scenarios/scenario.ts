import type { Lab } from '../lab.js';

/** The scenarios of `remediator demo --scenario`. */
export const scenarioNames = ['kill', 'pause', 'blip', 'partition-remediator', 'isolate-primary', 'lossy'] as const;
/** A scenario's name. */
export type ScenarioName = (typeof scenarioNames)[number];

/**
 * One fault of the lab and how it ends. The demo injects it, holds it until `holdUntil` (and at least `durationMs`),
 * restores, then watches: a failover that happened is followed to the fence of the old primary; otherwise the lab
 * is watched for `settleMs` more, so that a late run or promotion is seen too.
 */
export interface Scenario {
  readonly name: ScenarioName;
  /** `namespaces`: it cuts links, so it needs the partition lab (CAP_NET_ADMIN). */
  readonly network: 'loopback' | 'namespaces';
  /** The fault, as the timeline says it (`cache-a (primary) killed`). */
  readonly fault: string;
  /** What the restore does, as the timeline says it. */
  readonly restored: string;
  /**
   * What the fault waits for before it is restored: `failover` (a new primary took a write, the failover run ended),
   * `run` (the failover run ended, whatever it decided) or `duration` (only `durationMs`).
   */
  readonly holdUntil: 'failover' | 'run' | 'duration';
  /** The least time the fault lasts (ms). */
  readonly durationMs: number;
  /** How long the lab is watched after the restore when nothing failed over (ms). */
  readonly settleMs: number;
  /** Whether the scenario should end in exactly one promotion (else none). */
  readonly expectsFailover: boolean;
  inject(lab: Lab): Promise<void>;
  restore(lab: Lab): Promise<void>;
}

/** The lab's first primary, the target of every fault. */
export const firstPrimary = 'cache-a';

/** The partition lab (`lab.net`), or an error: a scenario that cuts links cannot run on loopback. */
export function netOf(lab: Lab): NonNullable<Lab['net']> {
  if (!lab.net) throw new Error('this scenario needs the partition lab (network namespaces)');
  return lab.net;
}
