import type { Redis } from 'ioredis';

/**
 * What remediator remembers about failbacks, per playbook and alert fingerprint: the pending failback job, and
 * the start of the newest firing episode (a failback for an older episode must not run). The intake writes both
 * inside its enqueue script (src/queue/run-inserter.ts), under the keys named here.
 */
export interface FailbackState {
  /** Key of the pending failback's job id. */
  pendingKey(playbook: string, fingerprint: string): string;
  /** Key of the newest firing episode's start (ms). */
  firingKey(playbook: string, fingerprint: string): string;
  /** How long a noted firing is kept. */
  readonly firingTtlMs: number;
  newestFiring(playbook: string, fingerprint: string): Promise<number | undefined>;
}

/** FailbackState in remediator's Redis, under `prefix` (per queue, so replicas on one queue share it). */
export function createFailbackState(redis: Redis, options: { prefix: string; retentionMs: number }): FailbackState {
  const firingKey = (playbook: string, fingerprint: string) => `${options.prefix}:firing:${playbook}:${fingerprint}`;
  return {
    pendingKey: (playbook, fingerprint) => `${options.prefix}:failback:${playbook}:${fingerprint}`,
    firingKey,
    firingTtlMs: options.retentionMs,
    async newestFiring(playbook, fingerprint) {
      const value = await redis.get(firingKey(playbook, fingerprint));
      return value === null ? undefined : Number(value);
    },
  };
}
