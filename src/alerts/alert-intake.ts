import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppError, errorCodes, errorMessage } from '../errors/index.js';
import type { RemediatorMetrics } from '../metrics/create-metrics.js';
import type { Playbook } from '../playbooks/playbook.js';
import { renderString } from '../playbooks/template.js';
import type { FailbackState } from '../queue/failback-state.js';
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
  phase: 'remediate' | 'failback';
  /** For a failback: when it runs, unless the alert fires again first. */
  notBefore?: string;
}

/** What an accepted webhook produced. */
export interface IntakeResult {
  alerts: number;
  runs: QueuedRun[];
  /** Failback runs cancelled because their alert fired again within the grace delay. */
  cancelledFailbacks: string[];
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
  /** The queue's connection, to ask which jobs Redis already holds. */
  redis: Redis;
  failback: FailbackState;
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
      const firings: { playbook: string; fingerprint: string; startsAtMs: number }[] = [];
      const seen = new Set<string>();
      for (const alert of payload.alerts) {
        deps.metrics.alertsReceived.inc({ status: alert.status });
        const fingerprint = alertFingerprint(alert);
        for (const playbook of deps.playbooks) {
          if (!matchesLabels(playbook.matchers, alert.labels)) continue;
          const failback = playbook.on === 'firing' && playbook.resolved !== undefined;
          if (failback && alert.status === 'firing') firings.push({ playbook: playbook.name, fingerprint, startsAtMs: Date.parse(alert.startsAt) });
          const phase = playbook.on === alert.status ? 'remediate' : failback && alert.status === 'resolved' ? 'failback' : undefined;
          if (phase === undefined) continue;
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
              dryRun: deps.dryRun || playbook.mode === 'dry-run',
              ...(playbook.rtoMs === undefined ? {} : { rtoMs: playbook.rtoMs }),
              phase,
              steps: [],
              skipSteps: [],
            },
            opts: { ...runJobOptions(playbook, jobId, deps.retentionMs), ...(phase === 'failback' ? { delay: playbook.resolved?.delayMs ?? 0 } : {}) },
          });
          const notBefore = phase === 'failback' ? new Date(Date.parse(receivedAt) + (playbook.resolved?.delayMs ?? 0)).toISOString() : undefined;
          runs.push({ jobId, playbook: playbook.name, fingerprint, status: alert.status, phase, ...(notBefore === undefined ? {} : { notBefore }) });
        }
      }
      const cancelledFailbacks = await guard(() => cancelFailbacks(firings));
      if (jobs.length > 0) {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            enqueue(jobs),
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
        await guard(() => Promise.all(jobs.filter((job) => job.data.phase === 'failback').map((job) =>
          deps.failback.rememberPending(job.data.playbook, job.data.alert.fingerprint, job.opts.jobId ?? '', (job.opts.delay ?? 0) + 86_400_000),
        )));
      }
      deps.logger.info({ receiver: payload.receiver, groupKey: payload.groupKey, alerts: payload.alerts.length, runs: runs.length, cancelledFailbacks }, 'webhook accepted');
      return { alerts: payload.alerts.length, runs, cancelledFailbacks };
    },
  };

  /**
   * Adds, in one pipelined addBulk, the jobs Redis does not hold yet. Redeliveries mostly repeat jobs already there
   * (Alertmanager resends every alert of a group when the group changes, an HA pair sends everything twice): one
   * EXISTS per job in one round trip costs far less than BullMQ building and sending each duplicate only to drop it
   * by its id, and the outcome is the same, since BullMQ never adds a job id it already holds.
   */
  async function enqueue(jobs: readonly { name: string; data: RunData; opts: ReturnType<typeof runJobOptions> }[]): Promise<void> {
    const existing = deps.redis.pipeline();
    for (const job of jobs) existing.exists(deps.queue.toKey(job.opts.jobId ?? ''));
    const replies = (await existing.exec()) ?? [];
    const missing = jobs.filter((_job, index) => {
      const [error, count] = replies[index] ?? [new Error('no reply to EXISTS'), 0];
      if (error) throw error;
      return count === 0;
    });
    if (missing.length > 0) await deps.queue.addBulk(missing);
  }

  /** Any Redis failure on the webhook path is a 503: Alertmanager retries, nothing is lost. */
  async function guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw new AppError(errorCodes.REDIS_UNAVAILABLE, `Redis failed: ${errorMessage(error)}`, { cause: error });
    }
  }

  /**
   * The alert fired again: its pending failback (grace delay not over) must not run. The firings of one webhook are
   * checked concurrently, so a body with many of them costs a few round trips to Redis, not a few per firing.
   */
  async function cancelFailbacks(firings: readonly { playbook: string; fingerprint: string; startsAtMs: number }[]): Promise<string[]> {
    // The same alert twice in one body is one firing, at its newest start.
    const unique = new Map<string, { playbook: string; fingerprint: string; startsAtMs: number }>();
    for (const firing of firings) {
      const key = `${firing.playbook}\u0000${firing.fingerprint}`;
      const known = unique.get(key);
      if (!known || known.startsAtMs < firing.startsAtMs) unique.set(key, firing);
    }
    const cancelled = await Promise.all([...unique.values()].map(async (firing) => {
      await deps.failback.noteFiring(firing.playbook, firing.fingerprint, firing.startsAtMs);
      const jobId = await deps.failback.pending(firing.playbook, firing.fingerprint);
      const job = jobId === undefined ? undefined : await deps.queue.getJob(jobId);
      if (!job || !(await job.isDelayed()) || Date.parse(job.data.alert.startsAt) >= firing.startsAtMs) return undefined;
      // If it just became active, remove() fails and the run's own newest-firing check skips it instead.
      const removed = await job.remove().then(() => true, () => false);
      if (!removed) return undefined;
      deps.logger.info({ jobId: job.id, playbook: firing.playbook, fingerprint: firing.fingerprint }, 'failback cancelled: the alert fired again within the grace delay');
      return job.id ?? '';
    }));
    return cancelled.filter((jobId): jobId is string => jobId !== undefined);
  }
}
