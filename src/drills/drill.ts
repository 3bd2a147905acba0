import type { ClusterKind } from '../inventory/inventory.js';
import { switchoverPlaybookName } from '../core/built-in-names.js';

/** What a drill does to its cluster: a planned switchover, or a failover (the primary's writes stop and the freshest replica is promoted at once). */
export const drillKinds = ['switchover', 'failover'] as const;
/** One kind of drill. */
export type DrillKind = (typeof drillKinds)[number];

/** The cluster kinds a drill can exercise: those with a switchover action. */
export const drillClusterKinds = ['redis', 'postgres'] as const satisfies readonly ClusterKind[];
/** A cluster kind a drill can exercise. */
export type DrillClusterKind = (typeof drillClusterKinds)[number];

/** One failover drill of remediations/drills.yaml, validated and normalized. */
export interface Drill {
  readonly name: string;
  readonly cluster: string;
  /** The kind of the cluster (from the inventory): picks the built-in playbook remediator-switchover-<kind>. */
  readonly clusterKind: DrillClusterKind;
  readonly kind: DrillKind;
  /** Cron, 5 fields or 6 with seconds. */
  readonly schedule: string;
  /** IANA time zone the schedule is read in (default UTC). */
  readonly timezone: string;
  /** How long after its scheduled time an occurrence may still start (cut at the next occurrence). */
  readonly windowMs: number;
  /** How long the cluster may go without a successful drill before RemediatorDrillOverdue fires. */
  readonly periodMs: number;
}

/** The built-in playbook a drill's run is matched to. */
export const drillPlaybookName = (drill: Pick<Drill, 'clusterKind'>): string => switchoverPlaybookName(drill.clusterKind);

/** The alert that says a drill is overdue: it carries the drill's cluster label, but must not block the drill that clears it. */
export const drillOverdueAlertName = 'RemediatorDrillOverdue';
