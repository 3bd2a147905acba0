import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { AppError, errorCodes, errorMessage } from '../core/errors/index.js';
import { cutValueKinds, type CutValueKind, type RemediatorMetrics } from '../metrics/create-metrics.js';
import type { Playbook } from '../core/playbook.js';
import { renderString } from '../core/template/template.js';
import type { FailbackState } from '../state/failback-state.js';
import { runJobName, runJobOptions } from '../queue/remediation-queue.js';
import type { InsertFiring, InsertJob, RunInserter } from '../queue/run-inserter.js';
import { cutLabelReferences, type RunData, type RunSource } from '../core/run-data.js';
import { runJobId } from './job-id.js';
import { matchesLabels } from '../core/label-matcher.js';
import { limitAlertValues, limitEnvelopeValues, type ValueLimits } from './value-limits.js';
import { alertFingerprint, type WebhookPayload } from './webhook-schema.js';

/** One run handed to the queue for a webhook. */
export interface QueuedRun {
  jobId: string;
  playbook: string;
  fingerprint: string;
  status: 'firing' | 'resolved';
  phase: 'remediate' | 'failback';
  /** For a failback: when it runs, unless the alert fires again first; for a manual run started later: when. */
  notBefore?: string;
  /** False when Redis already held a run with this id (a redelivery, a repeat, another replica's copy). */
  added: boolean;
}

/** What an accepted webhook produced. */
export interface IntakeResult {
  alerts: number;
  runs: QueuedRun[];
  /** Failback runs cancelled because their alert fired again within the grace delay. */
  cancelledFailbacks: string[];
  /** The same bytes were accepted meanwhile (a concurrent identical delivery won): this one wrote nothing. */
  redelivered: boolean;
}

/** Runs one playbook's episode again (the reconcile loop, after a step skipped its last run): only that playbook. */
export interface Recheck {
  playbook: string;
  attempt: number;
}

/** A run an operator started by hand (POST /api/playbooks/:name/run): only that playbook, and who started it. */
export interface ManualRun {
  playbook: string;
  by: string;
  /** Start no earlier than this long from now (a switchover planned for a given time); the run waits in the delayed set. */
  delayMs?: number;
}

/** Turns a validated webhook into queued runs. */
export interface AlertIntake {
  /**
   * True when a body with this digest (sha256 of its bytes, base64url) was accepted within the redelivery window:
   * its runs are already queued, so a verbatim redelivery (an Alertmanager retry) is answered without re-doing it.
   * Throws REDIS_UNAVAILABLE when Redis cannot say.
   */
  seen(digest: string): Promise<boolean>;
  /** Queues the runs of a validated body; with `digest`, also remembers the body as accepted (atomically). */
  accept(
    payload: WebhookPayload,
    options?: { digest?: string; source?: RunSource; recheck?: Recheck; manual?: ManualRun },
  ): Promise<IntakeResult>;
}

/**
 * Creates the intake: match every alert against every playbook for its status, render the target, and add all
 * runs of one webhook in one atomic script call (src/queue/run-inserter.ts). It resolves only once Redis holds
 * every job, which is when the webhook may answer 202; a Redis failure becomes REDIS_UNAVAILABLE (503, so
 * Alertmanager retries). A body accepted with its digest is remembered for `redelivery.windowMs`, in the same
 * script, so a verbatim redelivery (Alertmanager retries a notification whose answer it did not get) costs one
 * EXISTS instead of the whole path again; any other redelivery is deduplicated by the runs' job ids.
 */
export function createAlertIntake(deps: {
  playbooks: readonly Playbook[];
  queue: Queue<RunData>;
  inserter: RunInserter;
  failback: FailbackState;
  logger: Logger;
  metrics: RemediatorMetrics;
  retentionMs: number;
  dryRun: boolean;
  timeoutMs: number;
  /** Sizes of the values a run keeps of its alert. */
  valueLimits: ValueLimits;
  /** Where accepted bodies are remembered, and for how long. */
  redelivery: { keyPrefix: string; windowMs: number };
  now?: () => Date;
}): AlertIntake {
  const now = deps.now ?? (() => new Date());
  // Options are the same for every run of a playbook but the id (and a failback's delay): built once.
  const baseOptions = new Map(deps.playbooks.map((playbook) => [playbook.name, runJobOptions(playbook, '', deps.retentionMs)]));
  const bodyKey = (digest: string) => `${deps.redelivery.keyPrefix}:webhook:${digest}`;
  return {
    async seen(digest) {
      return withRedis('could not look up the redelivery marker', () => deps.inserter.has(bodyKey(digest)));
    },
    async accept(payload, options = {}) {
      const received = now();
      const receivedAt = received.toISOString();
      if ((payload.truncatedAlerts ?? 0) > 0) {
        // Alertmanager's max_alerts cut this group: the cut alerts never reach any playbook.
        deps.metrics.alertsTruncated.inc(payload.truncatedAlerts);
        deps.logger.warn(
          { receiver: payload.receiver, groupKey: payload.groupKey, truncatedAlerts: payload.truncatedAlerts },
          'Alertmanager truncated this notification; raise or remove max_alerts on the webhook receiver',
        );
      }
      const source = options.source ?? 'webhook';
      const jobs: InsertJob[] = [];
      const runs: QueuedRun[] = [];
      // The same alert twice in one body is one firing, at its newest start.
      const firings = new Map<string, { playbook: string; fingerprint: string; startsAtMs: number }>();
      const seen = new Set<string>();
      // Stored values are cut to their limits; the fingerprint and matching use the alert as it came.
      const envelope = limitEnvelopeValues(payload, deps.valueLimits);
      countCuts(envelope.counts);
      for (const alert of payload.alerts) {
        if (source === 'webhook') deps.metrics.alertsReceived.inc({ status: alert.status });
        const fingerprint = alertFingerprint(alert);
        const limited = limitAlertValues(alert, deps.valueLimits);
        countCuts(limited.counts);
        const cut = envelope.cut.length === 0 ? limited.cut : [...limited.cut, ...envelope.cut];
        for (const playbook of deps.playbooks) {
          const only = options.recheck?.playbook ?? options.manual?.playbook;
          if (only !== undefined && playbook.name !== only) continue;
          if (!matchesLabels(playbook.matchers, alert.labels)) continue;
          const failback = playbook.on === 'firing' && playbook.resolved !== undefined;
          if (failback && alert.status === 'firing') {
            const key = `${playbook.name}\u0000${fingerprint}`;
            const startsAtMs = Date.parse(alert.startsAt);
            const known = firings.get(key);
            if (!known || known.startsAtMs < startsAtMs) firings.set(key, { playbook: playbook.name, fingerprint, startsAtMs });
          }
          const phase = playbook.on === alert.status ? 'remediate' : failback && alert.status === 'resolved' ? 'failback' : undefined;
          if (phase === undefined) continue;
          const attempt = options.recheck?.attempt;
          const jobId = runJobId({
            playbook: playbook.name,
            fingerprint,
            startsAt: alert.startsAt,
            status: alert.status,
            ...(attempt === undefined ? {} : { attempt }),
          });
          if (seen.has(jobId)) continue; // the same alert twice in one body
          seen.add(jobId);
          const runAlert = {
            fingerprint,
            status: alert.status,
            labels: limited.labels,
            annotations: limited.annotations,
            startsAt: alert.startsAt,
            ...(alert.endsAt === undefined ? {} : { endsAt: alert.endsAt }),
            ...(limited.generatorURL === undefined ? {} : { generatorURL: limited.generatorURL }),
            ...(cut.length === 0 ? {} : { truncated: cut }),
          };
          let target: string | null;
          let targetError: string | undefined;
          try {
            target = renderString(playbook.target, {
              labels: limited.labels,
              annotations: limited.annotations,
              alert: runAlert,
              run: { id: jobId, playbook: playbook.name, target: '' },
              ...(cut.length === 0 ? {} : { cut: cutLabelReferences(cut) }),
            });
          } catch (error) {
            target = null;
            targetError = errorMessage(error);
          }
          const data: RunData = {
            playbook: playbook.name,
            target,
            ...(targetError === undefined ? {} : { targetError }),
            alert: runAlert,
            receiver: envelope.receiver,
            ...(envelope.groupKey === undefined ? {} : { groupKey: envelope.groupKey }),
            ...(envelope.externalURL === undefined ? {} : { externalURL: envelope.externalURL }),
            receivedAt,
            dryRun: deps.dryRun || playbook.mode === 'dry-run',
            ...(playbook.rtoMs === undefined ? {} : { rtoMs: playbook.rtoMs }),
            phase,
            ...(source === 'webhook' ? {} : { source }),
            ...(attempt === undefined ? {} : { attempt }),
            ...(options.manual === undefined ? {} : { startedBy: options.manual.by }),
            steps: [],
            skipSteps: [],
          };
          const delayMs = phase === 'failback' ? (playbook.resolved?.delayMs ?? 0) : (options.manual?.delayMs ?? 0);
          jobs.push({
            jobId,
            name: runJobName,
            data: JSON.stringify(data),
            opts: JSON.stringify({
              ...baseOptions.get(playbook.name),
              jobId,
              ...(phase === 'failback' || delayMs > 0 ? { delay: delayMs } : {}),
            }),
            delayMs,
            // A failback is remembered as pending for a day past its delay, so a new firing can cancel it.
            ...(phase === 'failback'
              ? { pending: { key: deps.failback.pendingKey(playbook.name, fingerprint), ttlMs: delayMs + 86_400_000 } }
              : {}),
          });
          const notBefore = phase === 'failback' || delayMs > 0 ? new Date(received.getTime() + delayMs).toISOString() : undefined;
          runs.push({
            jobId,
            playbook: playbook.name,
            fingerprint,
            status: alert.status,
            phase,
            ...(notBefore === undefined ? {} : { notBefore }),
            added: false,
          });
        }
      }
      const firingList = [...firings.values()];
      const insertFirings: InsertFiring[] = firingList.map((firing) => ({
        firingKey: deps.failback.firingKey(firing.playbook, firing.fingerprint),
        startsAtMs: firing.startsAtMs,
        ttlMs: deps.failback.firingTtlMs,
        pendingKey: deps.failback.pendingKey(firing.playbook, firing.fingerprint),
      }));
      let cancelledFailbacks: string[] = [];
      let redelivered = false;
      if (jobs.length > 0 || insertFirings.length > 0 || options.digest !== undefined) {
        const result = await withRedis('could not enqueue runs', () =>
          deps.inserter.insert({
            jobs,
            firings: insertFirings,
            ...(options.digest === undefined ? {} : { body: { key: bodyKey(options.digest), ttlMs: deps.redelivery.windowMs } }),
          }),
        );
        redelivered = result.redelivered;
        if (!redelivered) {
          runs.forEach((run, index) => {
            run.added = result.added[index] === true;
            if (run.added) deps.metrics.runsEnqueued.inc({ playbook: run.playbook });
          });
          cancelledFailbacks = await cancelFailbacks(
            firingList.map((firing, index) => ({ ...firing, pendingJobId: result.pending[index] })),
          );
        }
      }
      if (!redelivered && source === 'webhook')
        deps.logger.info(
          { receiver: payload.receiver, groupKey: payload.groupKey, alerts: payload.alerts.length, runs: runs.length, cancelledFailbacks },
          'webhook accepted',
        );
      return { alerts: payload.alerts.length, runs, cancelledFailbacks, redelivered };
    },
  };

  function countCuts(counts: Record<CutValueKind, number>): void {
    for (const kind of cutValueKinds) if (counts[kind] > 0) deps.metrics.alertValuesTruncated.inc({ kind }, counts[kind]);
  }

  /** Any Redis failure or a Redis slower than `timeoutMs` on the webhook path is a 503: Alertmanager retries. */
  async function withRedis<T>(what: string, work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work(),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            reject(new Error(`Redis did not answer within ${deps.timeoutMs} ms`));
          }, deps.timeoutMs);
        }),
      ]);
    } catch (error) {
      throw new AppError(errorCodes.REDIS_UNAVAILABLE, `${what}: ${errorMessage(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The alert fired again: its pending failback (grace delay not over) must not run. The runs are queued and the
   * newest firing is noted by now, and a failback checks that itself before it acts, so removing it here only saves
   * it a slot: a failure is logged, never turned into a 503 (the retry would find the body accepted).
   */
  async function cancelFailbacks(
    firings: readonly { playbook: string; fingerprint: string; startsAtMs: number; pendingJobId: string | undefined }[],
  ): Promise<string[]> {
    const cancelled = await Promise.all(
      firings.map(async (firing) => {
        if (firing.pendingJobId === undefined) return undefined;
        try {
          const job = await deps.queue.getJob(firing.pendingJobId);
          if (!job || !(await job.isDelayed()) || Date.parse(job.data.alert.startsAt) >= firing.startsAtMs) return undefined;
          // If it just became active, remove() fails and the run's own newest-firing check skips it instead.
          const removed = await job.remove().then(
            () => true,
            () => false,
          );
          if (!removed) return undefined;
          deps.logger.info(
            { jobId: job.id, playbook: firing.playbook, fingerprint: firing.fingerprint },
            'failback cancelled: the alert fired again within the grace delay',
          );
          return job.id ?? '';
        } catch (error) {
          deps.logger.warn(
            { err: error, jobId: firing.pendingJobId },
            'could not cancel a pending failback; it will skip itself when it runs',
          );
          return undefined;
        }
      }),
    );
    return cancelled.filter((jobId): jobId is string => jobId !== undefined);
  }
}
