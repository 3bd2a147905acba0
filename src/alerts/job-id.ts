import { hash } from 'node:crypto';

/** What makes a run unique: one run per playbook, alert, firing episode and status. */
export interface RunIdentity {
  playbook: string;
  fingerprint: string;
  startsAt: string;
  status: 'firing' | 'resolved';
  /** A recheck of the episode after a step skipped its run (1, 2, …); absent for the first run. */
  attempt?: number;
}

/**
 * A deterministic BullMQ job id for a run. Every remediator replica computes the same id for the same alert, so
 * redeliveries, repeat notifications and Alertmanager HA duplicates collapse into one job. The id never contains
 * `:` (BullMQ rejects it) and starts with the playbook name, which starts with a letter (an all-digit id would clash with BullMQ's own ids).
 * startsAt is normalised to milliseconds so "…00Z" and "…00.000000000Z" are the same episode.
 */
export function runJobId(identity: RunIdentity): string {
  const startsAt = new Date(identity.startsAt).toISOString();
  // One-shot hash(): a third of createHash()'s cost for a short input, and this runs for every run of every webhook.
  const digest = hash('sha256', [identity.playbook, identity.fingerprint, startsAt, identity.status].join('\u0000'), 'hex').slice(0, 24);
  return identity.attempt === undefined || identity.attempt === 0
    ? `${identity.playbook}-${digest}`
    : `${identity.playbook}-${digest}-r${identity.attempt}`;
}
