import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AlertIntake } from '../alerts/alert-intake.js';
import { runJobId } from '../alerts/job-id.js';
import { alertFingerprint, type WebhookAlert } from '../alerts/webhook-schema.js';
import type { RunData } from '../core/run-data.js';
import type { Sample } from '../exporters/metric-catalogue.js';
import type { Inventory } from '../inventory/inventory.js';
import type { ReconcileMetrics } from '../metrics/reconcile-metrics.js';
import type { PrimaryRecord } from '../state/primary-record.js';
import { secondPrimaryAlertName } from '../core/built-in-names.js';
import { isFenced } from './built-in-playbooks.js';

/** What one look at the clusters' live roles found and did. */
export interface RoleSweepResult {
  /** False when the members could not be probed at all. */
  complete: boolean;
  /** Fence runs enqueued in this sweep (new ones only). */
  fences: { cluster: string; member: string; jobId: string }[];
}

/** Looks at the live roles of every watched cluster and fences a second writable member. */
export interface RoleSweep {
  sweep(): Promise<RoleSweepResult>;
}

/** Members that answered as a primary in this probe, per cluster: their own live role, never a remembered one. */
export function writableMembers(samples: readonly Sample[]): Map<string, string[]> {
  const writable = new Map<string, string[]>();
  for (const sample of samples) {
    if (sample.metric !== 'remediator_member_up' || sample.value !== 1 || sample.labels.role !== 'primary') continue;
    const { cluster, instance } = sample.labels;
    if (cluster === undefined || instance === undefined) continue;
    writable.set(cluster, [...(writable.get(cluster) ?? []), instance]);
  }
  return writable;
}

/**
 * Creates the sweep. A cluster where more than one member answers as primary while remediator has recorded which
 * one it made primary gets a fence run for each other one: an alert of the built-in `remediator-fence-<kind>`
 * playbook through the ordinary intake, so the run is recorded and passes the lease, budget and dry-run rules like
 * any other. Each such episode (cluster, member, first seen) has one job id, kept in Redis, so a pass that sees the
 * same thing again (or another replica's pass) adds nothing; a fence that finished while the member is still
 * writable starts a new episode. Without a record remediator cannot tell which primary is the right one: that case
 * is MultiplePrimaries' (rules/instances.rules.yml), for people.
 */
export function createRoleSweep(deps: {
  inventory: Inventory;
  /** One probe of every member of every cluster, as the exporter reports it. */
  probe: () => Promise<Sample[]>;
  record: PrimaryRecord;
  intake: AlertIntake;
  queue: Queue<RunData>;
  redis: Redis;
  prefix: string;
  /**
   * A finished fence whose member is still writable (never seen as a replica since) this long after starts a new
   * episode: not at once, since a fence skipped by its budget would otherwise be followed by another every pass.
   */
  refenceAfterMs: number;
  metrics: ReconcileMetrics;
  logger: Logger;
  now?: () => number;
}): RoleSweep {
  const now = deps.now ?? Date.now;
  const clusters = [...deps.inventory.clusters.values()].filter(isFenced);
  const episodeKey = (cluster: string, member: string) => `${deps.prefix}:reconcile:split:${cluster}:${member}`;
  // An episode is forgotten a day after it was last seen: long enough to outlive any retry of its run.
  const episodeTtlMs = 86_400_000;
  const unrecorded = new Set<string>();
  // From start-up at 0, so that increase() counts a cluster's first fence.
  for (const cluster of clusters) deps.metrics.fences.inc({ cluster: cluster.name }, 0);

  const fenceAlert = (cluster: string, kind: string, member: string, startsAt: string): WebhookAlert => {
    const labels = { alertname: secondPrimaryAlertName, cluster, service: kind, instance: member, severity: 'critical' };
    const alert: WebhookAlert = {
      status: 'firing',
      labels,
      annotations: {
        summary: `${member} accepts writes beside the recorded primary of ${cluster}`,
        description: 'Seen by the reconcile loop in the members’ live roles; no notification was needed.',
      },
      startsAt,
    };
    return { ...alert, fingerprint: alertFingerprint(alert) };
  };

  /** The episode's start: kept while the member stays writable, renewed when its fence finished without effect. */
  const episodeStart = async (
    cluster: string,
    kind: string,
    member: string,
  ): Promise<{ startsAt: string; jobId: string; idle: boolean }> => {
    const key = episodeKey(cluster, member);
    const at = now();
    await deps.redis.set(key, new Date(at).toISOString(), 'PX', episodeTtlMs, 'NX');
    let startsAt = (await deps.redis.get(key)) ?? new Date(at).toISOString();
    let jobId = runJobId({
      playbook: `remediator-fence-${kind}`,
      fingerprint: alertFingerprint(fenceAlert(cluster, kind, member, startsAt)),
      startsAt,
      status: 'firing',
    });
    const job = await deps.queue.getJob(jobId);
    if (job?.finishedOn !== undefined && job.finishedOn < at - deps.refenceAfterMs) {
      startsAt = new Date(at).toISOString();
      await deps.redis.set(key, startsAt, 'PX', episodeTtlMs);
      jobId = runJobId({
        playbook: `remediator-fence-${kind}`,
        fingerprint: alertFingerprint(fenceAlert(cluster, kind, member, startsAt)),
        startsAt,
        status: 'firing',
      });
      return { startsAt, jobId, idle: true };
    }
    await deps.redis.pexpire(key, episodeTtlMs);
    return { startsAt, jobId, idle: job === undefined };
  };

  return {
    async sweep() {
      if (clusters.length === 0) return { complete: true, fences: [] };
      let samples: Sample[];
      try {
        samples = await deps.probe();
      } catch (error) {
        deps.logger.warn({ err: error }, 'reconcile: could not probe the clusters');
        return { complete: false, fences: [] };
      }
      const writable = writableMembers(samples);
      const fences: RoleSweepResult['fences'] = [];
      for (const cluster of clusters) {
        const primaries = writable.get(cluster.name) ?? [];
        if (primaries.length < 2) {
          // Episodes end when the member is seen again as anything but a primary (a fence that held).
          if (primaries.length === 1) unrecorded.delete(cluster.name);
          await clearEpisodes(
            cluster.name,
            cluster.members.map((member) => member.name).filter((name) => !primaries.includes(name)),
          );
          continue;
        }
        const recorded = await deps.record.get(cluster.name);
        if (recorded === undefined || !primaries.includes(recorded)) {
          if (!unrecorded.has(cluster.name))
            deps.logger.warn(
              { cluster: cluster.name, primaries, recorded },
              'reconcile: members answer as primaries but none is the primary remediator recorded: not fencing (MultiplePrimaries is for people)',
            );
          unrecorded.add(cluster.name);
          continue;
        }
        const alerts: WebhookAlert[] = [];
        for (const member of primaries) {
          if (member === recorded) continue;
          const episode = await episodeStart(cluster.name, cluster.kind, member);
          if (!episode.idle) continue; // its fence is queued or running
          alerts.push(fenceAlert(cluster.name, cluster.kind, member, episode.startsAt));
        }
        if (alerts.length === 0) continue;
        const result = await deps.intake.accept(
          { receiver: 'reconcile', status: 'firing', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, alerts },
          { source: 'state' },
        );
        for (const run of result.runs) {
          if (!run.added) continue;
          const member = alerts.find((alert) => alert.fingerprint === run.fingerprint)?.labels.instance ?? '';
          deps.metrics.fences.inc({ cluster: cluster.name });
          fences.push({ cluster: cluster.name, member, jobId: run.jobId });
          deps.logger.warn(
            { cluster: cluster.name, member, recorded, jobId: run.jobId },
            'reconcile: a second member accepts writes beside the recorded primary: fencing it',
          );
        }
      }
      return { complete: true, fences };
    },
  };

  async function clearEpisodes(cluster: string, members: readonly string[]): Promise<void> {
    const answeredOtherwise = new Set(members);
    if (answeredOtherwise.size === 0) return;
    await deps.redis.del(...[...answeredOtherwise].map((member) => episodeKey(cluster, member)));
  }
}
