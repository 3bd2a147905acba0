import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { AlertIntake } from '../alerts/alert-intake.js';
import { recheckedSkipKinds, type RunData } from '../core/run-data.js';
import type { SkipRechecks } from '../state/skip-rechecks.js';
import type { TargetHolds } from '../state/target-holds.js';

/** The longest wait between two rechecks of one episode. */
const maxRecheckDelayMs = 15 * 60_000;

/** The episode of an alert as the sweeps key it: its fingerprint and normalised start. */
export const episodeKey = (fingerprint: string, startsAt: string) => `${fingerprint}\u0000${new Date(startsAt).toISOString()}`;

/** The wait before recheck `attempt` (1, 2, …): `afterMs`, doubling with each attempt, at most 15 minutes. */
export function recheckDelayMs(afterMs: number, attempt: number): number {
  return Math.min(afterMs * 2 ** Math.max(0, attempt - 1), Math.max(afterMs, maxRecheckDelayMs));
}

/**
 * Runs again the episodes whose last run a step ended as skipped (the primary's death was not confirmed), while
 * Alertmanager still lists their alert as active: a notification will not (a repeat has the same job id), and the
 * primary that answered then may have died since. Each recheck is a new run of the same playbook and alert
 * (`attempt` 1, 2, …, its own job id), after `afterMs` doubling per attempt up to 15 minutes; it confirms the death
 * afresh, so a primary that is still alive is skipped again and nothing acts.
 * A run skipped because its target was held is run again as soon as the hold is gone (expired or released), while
 * the alert is still active: a death during maintenance is failed over once the maintenance ends.
 */
export function createSkipRecheck(deps: {
  rechecks: SkipRechecks;
  holds?: Pick<TargetHolds, 'get'> | undefined;
  queue: Queue<RunData>;
  intake: AlertIntake;
  afterMs: number;
  logger: Logger;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  return {
    /** `active`: the episodes every Alertmanager answered about as active; `complete`: every one answered. */
    async recheck(active: ReadonlySet<string>, complete: boolean): Promise<{ runId: string; jobId: string }[]> {
      const queued: { runId: string; jobId: string }[] = [];
      for (const runId of await deps.rechecks.list()) {
        const job = await deps.queue.getJob(runId);
        if (!job) {
          await deps.rechecks.forget(runId);
          continue;
        }
        if (job.finishedOn === undefined) continue; // its skipped: steps still run
        const { data } = job;
        const held = data.skip?.kind === 'hold';
        if (data.phase !== 'remediate' || data.skip === undefined || !(held || recheckedSkipKinds.has(data.skip.kind))) {
          await deps.rechecks.forget(runId);
          continue;
        }
        if (!active.has(episodeKey(data.alert.fingerprint, data.alert.startsAt))) {
          // Resolved (or a new episode started, with runs of its own); an Alertmanager that did not answer may still hold it.
          if (complete) await deps.rechecks.forget(runId);
          continue;
        }
        const attempt = (data.attempt ?? 0) + 1;
        if (held) {
          if (data.target === null || (await deps.holds?.get(data.target)) !== undefined) continue;
        } else if (now() - job.finishedOn < recheckDelayMs(deps.afterMs, attempt)) continue;
        const { alert } = data;
        const result = await deps.intake.accept(
          {
            receiver: data.receiver,
            status: 'firing',
            groupLabels: {},
            commonLabels: {},
            commonAnnotations: {},
            alerts: [
              {
                status: 'firing',
                labels: alert.labels,
                annotations: alert.annotations,
                startsAt: alert.startsAt,
                fingerprint: alert.fingerprint,
                ...(alert.generatorURL === undefined ? {} : { generatorURL: alert.generatorURL }),
              },
            ],
          },
          { source: 'alertmanager', recheck: { playbook: data.playbook, attempt } },
        );
        await deps.rechecks.forget(runId);
        for (const run of result.runs) {
          queued.push({ runId, jobId: run.jobId });
          deps.logger.info(
            { skipped: runId, jobId: run.jobId, attempt, skip: data.skip.kind },
            held
              ? 'reconcile: the hold on the target ended and the alert is still active: running the episode again'
              : 'reconcile: the alert is still active after a step skipped its run: running the episode again',
          );
        }
      }
      return queued;
    },
  };
}

/** The recheck of skipped runs, as the alert sweep calls it. */
export type SkipRecheck = ReturnType<typeof createSkipRecheck>;
