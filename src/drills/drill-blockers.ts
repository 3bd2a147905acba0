import type { TargetHolds } from '../state/target-holds.js';
import { drillOverdueAlertName, drillPlaybookName, type Drill } from './drill.js';
import type { OpenAlerts } from './open-alerts.js';

/** Why a drill may not start now, or undefined when nothing stands in its way. */
export type DrillBlockerCheck = (drill: Drill, alerts: () => Promise<OpenAlerts>) => Promise<string | undefined>;

/**
 * The conditions a drill waits for, in order: its playbook is loaded, remediation is not paused, no hold on the
 * cluster, no alert open on it (a drill must never add a switchover to an incident), no run acting on it. The
 * runner checks pause and hold again when the run starts, so a hold set in between still stops it.
 */
export function createDrillBlockers(deps: {
  playbooks: ReadonlySet<string>;
  isPaused: () => Promise<boolean>;
  holds: Pick<TargetHolds, 'get'> | undefined;
  /** True while a run holds the lease on the target. */
  isActing: (target: string) => Promise<boolean>;
}): DrillBlockerCheck {
  return async (drill, alerts) => {
    const playbook = drillPlaybookName(drill);
    if (!deps.playbooks.has(playbook)) return `the built-in playbook ${playbook} is not loaded`;
    if (await deps.isPaused()) return 'remediation is paused';
    const hold = await deps.holds?.get(drill.cluster);
    if (hold) return `cluster ${drill.cluster} is held until ${hold.until} by ${hold.by}: ${hold.reason}`;
    const open = await alerts();
    if (!open.known) return open.why;
    const alert = open.labels.find((labels) => labels.cluster === drill.cluster && labels.alertname !== drillOverdueAlertName);
    if (alert) return `alert ${alert.alertname ?? '(no alertname)'} is open on cluster ${drill.cluster}`;
    if (await deps.isActing(drill.cluster)) return `a run is acting on cluster ${drill.cluster}`;
    return undefined;
  };
}
