import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { runJobId } from '../alerts/job-id.js';
import type { RunData } from '../core/run-data.js';
import { scanKeys } from '../redis/scan-keys.js';

/** The alerts open right now, or why that cannot be told (a drill then waits). */
export type OpenAlerts = { known: true; labels: readonly Readonly<Record<string, string>>[] } | { known: false; why: string };

/** What the alert sweep read this pass: the labels of every active alert, and whether every Alertmanager answered. */
export interface AlertmanagerView {
  readonly complete: boolean;
  readonly active: readonly Readonly<Record<string, string>>[];
}

/** From the alert sweep's read of the Alertmanagers: an incomplete read cannot tell that no alert is open. */
export function openAlertsFromAlertmanager(view: AlertmanagerView): OpenAlerts {
  return view.complete
    ? { known: true, labels: view.active }
    : { known: false, why: 'not every Alertmanager answered: it cannot be told that no alert is open on the cluster' };
}

/**
 * Without an Alertmanager to ask, from the firing notes the intake keeps (per playbook with a resolved: section and
 * alert fingerprint, `<prefix>:firing:<playbook>:<fingerprint>` = the episode's start): an episode whose resolution
 * was never queued is open, with the labels its firing run holds. Alerts matched only by playbooks without
 * `resolved:` leave no note: they are not seen here.
 */
export async function openAlertsFromNotes(deps: { redis: Redis; queue: Queue<RunData>; prefix: string }): Promise<OpenAlerts> {
  const notePrefix = `${deps.prefix}:firing:`;
  const keys = await scanKeys(deps.redis, `${notePrefix}*`);
  const values = keys.length === 0 ? [] : await deps.redis.mget(...keys);
  const labels: Record<string, string>[] = [];
  for (const [index, key] of keys.entries()) {
    const rest = key.slice(notePrefix.length);
    const colon = rest.indexOf(':');
    const startsAtMs = Number(values[index]);
    if (colon < 0 || !Number.isFinite(startsAtMs)) continue;
    const identity = { playbook: rest.slice(0, colon), fingerprint: rest.slice(colon + 1), startsAt: new Date(startsAtMs).toISOString() };
    if (await deps.queue.getJob(runJobId({ ...identity, status: 'resolved' }))) continue;
    const firing = await deps.queue.getJob(runJobId({ ...identity, status: 'firing' }));
    if (firing) labels.push(firing.data.alert.labels);
  }
  return { known: true, labels };
}
