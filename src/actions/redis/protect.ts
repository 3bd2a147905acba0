import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { durationSchema } from '../../core/duration.js';

/** The defaults of `protect:`, documented in docs/actions.md. */
export const protectDefaults = { minReplicasToWrite: 1, maxLag: 10_000 } as const;

/**
 * `protect:` of redis.failover: min-replicas-to-write / min-replicas-max-lag set on the replica it promotes, so that
 * this primary, once cut off from its replicas, refuses writes (NOREPLICAS) instead of taking writes a later
 * failover throws away. `false` leaves the settings alone.
 */
export const protectSchema = z
  .union([
    z.literal(false),
    z.strictObject({
      /** How many replicas must be connected, within maxLag, for the primary to accept a write. */
      minReplicasToWrite: z.number().int().min(1).default(protectDefaults.minReplicasToWrite),
      /** How long since a replica's last acknowledgement it still counts (Redis counts whole seconds). */
      maxLag: durationSchema.refine((ms) => ms >= 1000 && ms % 1000 === 0, 'whole seconds, at least 1s').default(protectDefaults.maxLag),
    }),
  ])
  .default({ ...protectDefaults });

/** `protect:` after defaults. */
export type ProtectParams = z.output<typeof protectSchema>;

/** What protect did, for the step's output. */
export type Protection =
  { applied: true; minReplicasToWrite: number; maxLagSeconds: number; warning?: string } | { applied: false; warning: string };

/**
 * Sets min-replicas-* on the replica about to be promoted (on a replica they are inert, so a crash between this and
 * the promotion leaves nothing half done). Never more replicas than will follow it: a primary that needs more
 * refuses every write. A refusal (CONFIG renamed, ACL) is a warning, not a failed failover: the promotion matters
 * more than the protection.
 */
export async function protectPromoted(
  client: Redis,
  params: Exclude<ProtectParams, false>,
  followers: number,
  context: { member: string; logger: Logger },
): Promise<Protection> {
  const maxLagSeconds = params.maxLag / 1000;
  const minReplicasToWrite = Math.min(params.minReplicasToWrite, followers);
  if (minReplicasToWrite === 0) {
    const warning = `${context.member} will have no replica: min-replicas-to-write left alone (it would refuse every write)`;
    context.logger.warn({ member: context.member }, warning);
    return { applied: false, warning };
  }
  try {
    // One setting per CONFIG SET: Redis before 7.0 takes only one.
    await client.call('CONFIG', 'SET', 'min-replicas-max-lag', String(maxLagSeconds));
    await client.call('CONFIG', 'SET', 'min-replicas-to-write', String(minReplicasToWrite));
  } catch (error) {
    const warning = `${context.member} refused CONFIG SET min-replicas-*: ${(error as Error).message}; promoted unprotected`;
    context.logger.warn({ member: context.member }, warning);
    return { applied: false, warning };
  }
  const lowered = minReplicasToWrite < params.minReplicasToWrite;
  return {
    applied: true,
    minReplicasToWrite,
    maxLagSeconds,
    ...(lowered
      ? { warning: `only ${followers} replica(s) will follow ${context.member}: min-replicas-to-write ${minReplicasToWrite}` }
      : {}),
  };
}
