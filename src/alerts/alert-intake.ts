import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { AppError, errorCodes, errorMessage } from '../errors/index.js';
import type { RemediatorMetrics } from '../metrics/create-metrics.js';
import type { Playbook } from '../playbooks/playbook.js';
import { renderString } from '../playbooks/template.js';
import { runJobName, runJobOptions } from '../queue/remediation-queue.js';
import type { RunData } from '../runs/run-data.js';
import { runJobId } from './job-id.js';
import { matchesLabels } from './label-matcher.js';
import { alertFingerprint, type WebhookPayload } from './webhook-schema.js';

/** One run handed to the queue for a webhook. */
export interface QueuedRun {
  jobId: string;
  playbook: string;
  fingerprint: string;
  status: 'firing' | 'resolved';
}

/** What an accepted webhook produced. */
export interface IntakeResult {
  alerts: number;
  runs: QueuedRun[];
}

/** Turns a validated webhook into queued runs. */
export interface AlertIntake {
  accept(payload: WebhookPayload): Promise<IntakeResult>;
}

/**
 * Creates the intake: match every alert against every playbook for its status, render the target, and add all
 * jobs of one webhook in a single pipelined addBulk. It resolves only once Redis holds every job, which is when
 * the webhook may answer 202; a Redis failure becomes REDIS_UNAVAILABLE (503, so Alertmanager retries).
 */
export function createAlertIntake(deps: {
  playbooks: readonly Playbook[];
  queue: Queue<RunData>;
  logger: Logger;
  metrics: RemediatorMetrics;
  retentionMs: number;
  dryRun: boolean;
  timeoutMs: number;
  now?: () => Date;
}): AlertIntake {
  const now = deps.now ?? (() => new Date());
  return {
    async accept(payload) {
      const receivedAt = now().toISOString();
      if ((payload.truncatedAlerts ?? 0) > 0) {
        // Alertmanager's max_alerts cut this group: the cut alerts never reach any playbook.
        deps.logger.warn({ receiver: payload.receiver, groupKey: payload.groupKey, truncatedAlerts: payload.truncatedAlerts }, 'Alertmanager truncated this notification; raise or remove max_alerts on the webhook receiver');
      }
      const jobs: { name: string; data: RunData; opts: ReturnType<typeof runJobOptions> }[] = [];
      const runs: QueuedRun[] = [];
      const seen = new Set<string>();
      for (const alert of payload.alerts) {
        deps.metrics.alertsReceived.inc({ status: alert.status });
        const fingerprint = alertFingerprint(alert);
        for (const playbook of deps.playbooks) {
          if (playbook.on !== alert.status || !matchesLabels(playbook.matchers, alert.labels)) continue;
          const jobId = runJobId({ playbook: playbook.name, fingerprint, startsAt: alert.startsAt, status: alert.status });
          if (seen.has(jobId)) continue; // the same alert twice in one body
          seen.add(jobId);
          const runAlert = {
            fingerprint,
            status: alert.status,
            labels: alert.labels,
            annotations: alert.annotations,
            startsAt: alert.startsAt,
            ...(alert.endsAt === undefined ? {} : { endsAt: alert.endsAt }),
            ...(alert.generatorURL === undefined ? {} : { generatorURL: alert.generatorURL }),
          };
          let target: string | null;
          let targetError: string | undefined;
          try {
            target = renderString(playbook.target, {
              labels: alert.labels,
              annotations: alert.annotations,
              alert: runAlert,
              run: { id: jobId, playbook: playbook.name, target: '' },
            });
          } catch (error) {
            target = null;
            targetError = errorMessage(error);
          }
          jobs.push({
            name: runJobName,
            data: {
              playbook: playbook.name,
              target,
              ...(targetError === undefined ? {} : { targetError }),
              alert: runAlert,
              receiver: payload.receiver,
              ...(payload.groupKey === undefined ? {} : { groupKey: payload.groupKey }),
              ...(payload.externalURL === undefined ? {} : { externalURL: payload.externalURL }),
              receivedAt,
              dryRun: deps.dryRun,
              steps: [],
            },
            opts: runJobOptions(playbook, jobId, deps.retentionMs),
          });
          runs.push({ jobId, playbook: playbook.name, fingerprint, status: alert.status });
        }
      }
      if (jobs.length > 0) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            deps.queue.addBulk(jobs),
            new Promise<never>((_resolve, reject) => {
              timer = setTimeout(() => { reject(new Error(`Redis did not answer within ${deps.timeoutMs} ms`)); }, deps.timeoutMs);
            }),
          ]);
        } catch (error) {
          throw new AppError(errorCodes.REDIS_UNAVAILABLE, `could not enqueue runs: ${errorMessage(error)}`, { cause: error });
        } finally {
          clearTimeout(timer);
        }
        for (const run of runs) deps.metrics.runsEnqueued.inc({ playbook: run.playbook });
      }
      deps.logger.info({ receiver: payload.receiver, groupKey: payload.groupKey, alerts: payload.alerts.length, runs: runs.length }, 'webhook accepted');
      return { alerts: payload.alerts.length, runs };
    },
  };
}
