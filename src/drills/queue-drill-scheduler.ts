import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AlertIntake } from '../alerts/alert-intake.js';
import type { RunData } from '../core/run-data.js';
import type { TargetHolds } from '../state/target-holds.js';
import type { Drill } from './drill.js';
import { createDrillBlockers } from './drill-blockers.js';
import { createDrillScheduler, type DrillScheduler } from './drill-scheduler.js';
import type { DrillState } from './drill-state.js';
import { openAlertsFromNotes } from './open-alerts.js';

/** The drills to schedule (remediations/drills.yaml), their state, and the playbooks they need. */
export interface DrillSources {
  drills: readonly Drill[];
  state: DrillState;
  /** Names of the playbooks the intake knows (a drill needs its built-in switchover playbook). */
  playbooks: ReadonlySet<string>;
}

/**
 * The scheduler on one queue's Redis: paused is the queue's own flag (the kill switch), a run acts on the cluster
 * while it holds the target's lease (src/state/target-lock.ts), the open alerts come from the intake's firing notes
 * when no Alertmanager is read.
 */
export function createQueueDrillScheduler(
  sources: DrillSources,
  deps: {
    intake: AlertIntake;
    queue: Queue<RunData>;
    redis: Redis;
    prefix: string;
    holds: Pick<TargetHolds, 'get'> | undefined;
    logger: Logger;
  },
): DrillScheduler {
  return createDrillScheduler({
    drills: sources.drills,
    state: sources.state,
    blockers: createDrillBlockers({
      playbooks: sources.playbooks,
      isPaused: () => deps.queue.isPaused(),
      holds: deps.holds,
      isActing: async (target) => (await deps.redis.exists(`${deps.prefix}:lock:${target}`)) === 1,
    }),
    intake: deps.intake,
    alertsFromNotes: () => openAlertsFromNotes({ redis: deps.redis, queue: deps.queue, prefix: deps.prefix }),
    logger: deps.logger,
  });
}
