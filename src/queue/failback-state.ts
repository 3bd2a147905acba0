import type { Redis } from 'ioredis';

/**
 * What remediator remembers about failbacks, per playbook and alert fingerprint: the pending failback job, and
 * the start of the newest firing episode (a failback for an older episode must not run).
 */
export interface FailbackState {
  rememberPending(playbook: string, fingerprint: string, jobId: string, ttlMs: number): Promise<void>;
  pending(playbook: string, fingerprint: string): Promise<string | undefined>;
  noteFiring(playbook: string, fingerprint: string, startsAtMs: number): Promise<void>;
  newestFiring(playbook: string, fingerprint: string): Promise<number | undefined>;
}

/** FailbackState in remediator's Redis, under `prefix` (per queue, so replicas on one queue share it). */
export function createFailbackState(redis: Redis, options: { prefix: string; retentionMs: number }): FailbackState {
  const pendingKey = (playbook: string, fingerprint: string) => `${options.prefix}:failback:${playbook}:${fingerprint}`;
  const firingKey = (playbook: string, fingerprint: string) => `${options.prefix}:firing:${playbook}:${fingerprint}`;
  return {
    async rememberPending(playbook, fingerprint, jobId, ttlMs) {
      await redis.set(pendingKey(playbook, fingerprint), jobId, 'PX', ttlMs);
    },
    async pending(playbook, fingerprint) {
      return (await redis.get(pendingKey(playbook, fingerprint))) ?? undefined;
    },
    async noteFiring(playbook, fingerprint, startsAtMs) {
      // Keep the newest episode only: a late redelivery of an older firing must not move it back.
      await redis.eval(
        "local c = tonumber(redis.call('GET', KEYS[1]) or '0') if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end return 1",
        1,
        firingKey(playbook, fingerprint),
        startsAtMs,
        options.retentionMs,
      );
    },
    async newestFiring(playbook, fingerprint) {
      const value = await redis.get(firingKey(playbook, fingerprint));
      return value === null ? undefined : Number(value);
    },
  };
}
