import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AlertIntake } from '../alerts/alert-intake.js';
import { runJobId } from '../alerts/job-id.js';
import { webhookAlertSchema, type WebhookAlert } from '../alerts/webhook-schema.js';
import { errorMessage } from '../core/errors/index.js';
import type { RunData } from '../core/run-data.js';
import type { ReconcileMetrics } from '../metrics/reconcile-metrics.js';
import { scanKeys } from '../redis/scan-keys.js';
import type { AlertmanagerClient, ListedAlert } from './alertmanager-client.js';
import { episodeKey as episodeOf, type SkipRecheck } from './skip-recheck.js';

/** One Alertmanager's answer in a sweep. */
export interface AlertmanagerReading {
  name: string;
  ok: boolean;
  reason?: string;
}

/** What one sweep of the Alertmanagers found and did. */
export interface AlertSweepResult {
  /** Every Alertmanager answered. */
  complete: boolean;
  alertmanagers: AlertmanagerReading[];
  /** Runs enqueued that no notification had enqueued. */
  recovered: { jobId: string; status: 'firing' | 'resolved'; playbook: string }[];
  /** Episodes run again because a step skipped their last run and the alert is still active. */
  rechecked: { runId: string; jobId: string }[];
  /** The labels of every alert an Alertmanager that answered lists as active (what a drill waits on). */
  active: Record<string, string>[];
}

/** Compares what the Alertmanagers hold with the runs remediator has, and enqueues what is missing. */
export interface AlertSweep {
  sweep(): Promise<AlertSweepResult>;
}

/**
 * Creates the sweep. Firing: every alert an Alertmanager lists as active (not silenced or inhibited: it would not
 * notify those either) goes through the ordinary intake once, when it is listed for the second pass in a row (one
 * interval, for a notification on its way to arrive first); the intake's job ids make that a no-op when its
 * webhook came, and the webhook a no-op when it comes later. A route whose group_wait (or group_interval, for an
 * alert joining a group) is longer than the interval is overtaken: the run starts earlier, and counts as
 * recovered. Resolved: a
 * failback playbook's run waits for its alert to resolve; when every Alertmanager answered, has been up for
 * `warmupMs` (a restarted one has not heard of every firing alert yet: Prometheus resends them every minute) and
 * no longer lists the alert in two passes in a row, its resolution is enqueued as the notification would have.
 */
export function createAlertSweep(deps: {
  alertmanagers: readonly AlertmanagerClient[];
  intake: AlertIntake;
  queue: Queue<RunData>;
  redis: Redis;
  prefix: string;
  /** How long an Alertmanager must have run before its list is trusted to show every firing alert. */
  warmupMs: number;
  /** Runs again the episodes a step skipped while their alert stays active. */
  recheck?: SkipRecheck;
  metrics: ReconcileMetrics;
  logger: Logger;
  now?: () => number;
}): AlertSweep {
  const now = deps.now ?? Date.now;
  /** Episodes listed in the previous pass and not submitted yet. */
  let listedBefore = new Set<string>();
  /** Episodes submitted to the intake (a run exists, or none of the playbooks wants one): not submitted again. */
  let submitted = new Set<string>();
  /** Firing notes (failback playbooks) whose alert was absent in the previous pass. */
  let absentBefore = new Set<string>();
  /** Firing notes whose resolution is already queued, by the note's start: not looked up again. */
  const settled = new Map<string, number>();
  const firingPrefix = `${deps.prefix}:firing:`;

  const toAlert = (listed: ListedAlert): WebhookAlert | undefined => {
    const parsed = webhookAlertSchema.safeParse({
      status: 'firing',
      labels: listed.labels,
      annotations: listed.annotations,
      startsAt: listed.startsAt,
      ...(listed.generatorURL === undefined ? {} : { generatorURL: listed.generatorURL }),
      fingerprint: listed.fingerprint,
    });
    return parsed.success ? parsed.data : undefined;
  };

  const submit = async (alerts: readonly WebhookAlert[], status: 'firing' | 'resolved', receiver: string) => {
    if (alerts.length === 0) return [];
    const result = await deps.intake.accept(
      { receiver, status, groupLabels: {}, commonLabels: {}, commonAnnotations: {}, alerts: [...alerts] },
      { source: 'alertmanager' },
    );
    return result.runs.filter((run) => run.added).map((run) => ({ jobId: run.jobId, status: run.status, playbook: run.playbook }));
  };

  return {
    async sweep() {
      const readings = await Promise.all(
        deps.alertmanagers.map(async (client) => {
          try {
            const [list, startedAt] = await Promise.all([client.listAlerts(), client.startedAt()]);
            return { client, ok: true as const, list, startedAt };
          } catch (error) {
            return { client, ok: false as const, reason: errorMessage(error) };
          }
        }),
      );
      const alertmanagers = readings.map((reading): AlertmanagerReading =>
        reading.ok ? { name: reading.client.name, ok: true } : { name: reading.client.name, ok: false, reason: reading.reason },
      );
      for (const reading of alertmanagers) deps.metrics.alertmanagerUp.set({ alertmanager: reading.name }, reading.ok ? 1 : 0);
      const answered = readings.flatMap((reading) => (reading.ok ? [reading] : []));
      const complete = answered.length === readings.length;
      if (answered.length === 0) return { complete, alertmanagers, recovered: [], rechecked: [], active: [] };

      // An HA pair lists the same alerts: one entry per fingerprint, active wherever any member says so.
      const listed = new Map<string, ListedAlert>();
      for (const reading of answered)
        for (const alert of reading.list.alerts) {
          const known = listed.get(alert.fingerprint);
          if (!known || (known.status.state !== 'active' && alert.status.state === 'active')) listed.set(alert.fingerprint, alert);
        }

      const recovered: AlertSweepResult['recovered'] = [];
      // Firing alerts without a run.
      const active = [...listed.values()].filter((alert) => alert.status.state === 'active');
      const byReceiver = new Map<string, WebhookAlert[]>();
      const stillSubmitted = new Set<string>();
      const listedNow = new Set<string>();
      for (const entry of active) {
        const episode = episodeOf(entry.fingerprint, entry.startsAt);
        if (submitted.has(episode)) {
          stillSubmitted.add(episode);
          continue;
        }
        // First listed: its notification is most likely on its way (group_wait); the next pass decides.
        if (!listedBefore.has(episode)) {
          listedNow.add(episode);
          continue;
        }
        stillSubmitted.add(episode);
        const alert = toAlert(entry);
        if (!alert) continue;
        const receiver = entry.receivers.map((item) => item.name).join(',') || 'alertmanager';
        byReceiver.set(receiver, [...(byReceiver.get(receiver) ?? []), alert]);
      }
      for (const [receiver, alerts] of byReceiver) recovered.push(...(await submit(alerts, 'firing', receiver)));
      const rechecked = deps.recheck
        ? await deps.recheck.recheck(new Set(active.map((entry) => episodeOf(entry.fingerprint, entry.startsAt))), complete)
        : [];
      // Only once every group is in: after a Redis failure the next pass submits them all again (a no-op where done).
      submitted = stillSubmitted;
      listedBefore = listedNow;

      // Resolutions a failback waits for, only from a full and settled view.
      const trusted = complete && answered.every((reading) => now() - reading.startedAt >= deps.warmupMs);
      if (trusted) recovered.push(...(await resolutions(new Set(listed.keys()))));
      else absentBefore = new Set();

      for (const run of recovered) {
        deps.metrics.alertsRecovered.inc({ status: run.status });
        deps.logger.warn(
          { jobId: run.jobId, playbook: run.playbook, status: run.status },
          run.status === 'firing'
            ? 'reconcile: an alert Alertmanager holds had no run (its notification was lost): enqueued'
            : 'reconcile: an alert resolved without a notification reaching remediator: its failback is enqueued',
        );
      }
      return { complete, alertmanagers, recovered, rechecked, active: active.map((entry) => entry.labels) };
    },
  };

  /** Resolutions of noted firings whose alert no Alertmanager lists any more, two passes in a row. */
  async function resolutions(listedFingerprints: ReadonlySet<string>): Promise<AlertSweepResult['recovered']> {
    const absentNow = new Set<string>();
    const alerts: { alert: WebhookAlert; receiver: string }[] = [];
    const keys = (await scanKeys(deps.redis, `${firingPrefix}*`)).filter((key) => {
      const [, fingerprint] = splitFiringKey(key.slice(firingPrefix.length));
      return fingerprint !== undefined && !listedFingerprints.has(fingerprint);
    });
    const values = keys.length === 0 ? [] : await deps.redis.mget(...keys);
    // Notes that expired or are listed again are forgotten here too, so the memory stays as small as the notes.
    const present = new Set(keys);
    for (const key of settled.keys()) if (!present.has(key)) settled.delete(key);
    for (const [index, key] of keys.entries()) {
      const [playbook, fingerprint] = splitFiringKey(key.slice(firingPrefix.length));
      const value = values[index];
      const startsAtMs = Number(value);
      if (playbook === undefined || fingerprint === undefined || value === null || value === undefined) continue;
      if (!Number.isFinite(startsAtMs) || settled.get(key) === startsAtMs) continue;
      const startsAt = new Date(startsAtMs).toISOString();
      if (await deps.queue.getJob(runJobId({ playbook, fingerprint, startsAt, status: 'resolved' }))) {
        settled.set(key, startsAtMs);
        continue;
      }
      absentNow.add(key);
      if (!absentBefore.has(key)) continue;
      const firing = await deps.queue.getJob(runJobId({ playbook, fingerprint, startsAt, status: 'firing' }));
      if (!firing) continue; // nothing waits: the firing run is gone (retention) or was never queued
      const { alert } = firing.data;
      alerts.push({
        alert: {
          status: 'resolved',
          labels: alert.labels,
          annotations: alert.annotations,
          startsAt: alert.startsAt,
          endsAt: new Date(now()).toISOString(),
          fingerprint,
          ...(alert.generatorURL === undefined ? {} : { generatorURL: alert.generatorURL }),
        },
        receiver: firing.data.receiver,
      });
    }
    absentBefore = absentNow;
    const recovered: AlertSweepResult['recovered'] = [];
    for (const { alert, receiver } of alerts) recovered.push(...(await submit([alert], 'resolved', receiver)));
    return recovered;
  }
}

/** `<playbook>:<fingerprint>` of a firing note: playbook names have no `:` (they are slugs). */
function splitFiringKey(rest: string): [string | undefined, string | undefined] {
  const at = rest.indexOf(':');
  return at < 0 ? [undefined, undefined] : [rest.slice(0, at), rest.slice(at + 1)];
}
