import type { Redis } from 'ioredis';

/** Single use of approval links: a link is claimed once, atomically, across every replica. */
export interface ApprovalLinkClaims {
  /** True when this call claimed the link; false when it had been claimed before. Kept until the link expires. */
  claim(id: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
  /** True when the link has been claimed (the page says so before anyone clicks). */
  isClaimed(id: string): Promise<boolean>;
}

/** Claims as Redis keys under `prefix` (SET NX PX): the first POST of a link wins, every later one is refused. */
export function createApprovalLinkClaims(redis: Redis, options: { prefix: string }): ApprovalLinkClaims {
  const key = (id: string) => `${options.prefix}:approval-link:${id}`;
  return {
    async claim(id, expiresAtMs, nowMs) {
      // Kept at least a second: a link checked as unexpired a moment ago still gets a key that outlives the check.
      const ttlMs = Math.max(1000, expiresAtMs - nowMs);
      return (await redis.set(key(id), String(nowMs), 'PX', ttlMs, 'NX')) === 'OK';
    },
    async isClaimed(id) {
      return (await redis.exists(key(id))) === 1;
    },
  };
}
