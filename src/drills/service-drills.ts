import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AlertIntake } from '../alerts/alert-intake.js';
import type { Playbook } from '../core/playbook.js';
import type { RunData } from '../core/run-data.js';
import type { DrillMetricsSource } from '../metrics/drill-metrics.js';
import type { PassHook } from '../reconcile/reconcile-loop.js';
import type { RunEndListener } from '../runner/run-end-listener.js';
import type { TargetHolds } from '../state/target-holds.js';
import type { Drill } from './drill.js';
import { createDrillBlockers } from './drill-blockers.js';
import { createDrillRunRecorder } from './drill-run-recorder.js';
import { createDrillScheduler } from './drill-scheduler.js';
import { createDrillState, drillMetricsSource } from './drill-state.js';
import { openAlertsFromNotes } from './open-alerts.js';

/** The drills of one remediator process, on its queue's Redis: what the metrics, the runner and the reconcile loop take. */
export interface ServiceDrills {
  /** Read at scrape time (every process shows the same values). */
  readonly metrics: DrillMetricsSource;
  /** Records the end of a drill's run, in whichever worker ran it. */
  readonly onRunEnd: RunEndListener;
  /** The scheduler as a pass of the reconcile loop, enqueuing through `intake` (which knows the built-in playbooks). */
  passHook(deps: { intake: AlertIntake; queue: Queue<RunData> }): PassHook;
}

/**
 * Wires `drills` into a process; undefined without drills. A drill waits while the queue is paused (the kill
 * switch), while a hold is on its cluster, while a run holds the cluster's lease (src/state/target-lock.ts), and
 * while an alert is open on it: from what the alert sweep read that pass, or the intake's firing notes without an
 * Alertmanager.
 */
export function createServiceDrills(
  drills: readonly Drill[],
  deps: { redis: Redis; prefix: string; holds: Pick<TargetHolds, 'get'> | undefined; playbooks: readonly Playbook[]; logger: Logger },
): ServiceDrills | undefined {
  if (drills.length === 0) return undefined;
  const state = createDrillState(deps.redis, deps.prefix);
  const playbooks = new Set(deps.playbooks.map((playbook) => playbook.name));
  return {
    metrics: drillMetricsSource(drills, state),
    onRunEnd: createDrillRunRecorder({ drills, state }),
    passHook({ intake, queue }) {
      const scheduler = createDrillScheduler({
        drills,
        state,
        blockers: createDrillBlockers({
          playbooks,
          isPaused: () => queue.isPaused(),
          holds: deps.holds,
          isActing: async (target) => (await deps.redis.exists(`${deps.prefix}:lock:${target}`)) === 1,
        }),
        intake,
        alertsFromNotes: () => openAlertsFromNotes({ redis: deps.redis, queue, prefix: deps.prefix }),
        logger: deps.logger.child({ component: 'drills' }),
      });
      return (pass) => scheduler.sweep({ alertmanager: pass.alerts });
    },
  };
}
