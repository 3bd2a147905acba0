import { z } from 'zod';
import { durationSchema } from '../../core/duration.js';

/** The defaults of `confirm:`, documented in docs/actions.md and docs/safety.md. */
export const confirmDefaults = { probes: 4, window: 1500, quorum: 'majority', probeTimeout: 250 } as const;

/**
 * `confirm:` of the failover actions: how the death of a primary is confirmed before anything is promoted.
 * remediator probes the primary `probes` times spread over `window`, and asks every replica that follows it
 * whether it lost it; a quorum of the answering replicas must have lost it for at least `window`.
 */
export const confirmSchema = z
  .strictObject({
    /** How many times remediator probes the primary, spread evenly over `window` (the first at once). */
    probes: z.number().int().min(1).max(20).default(confirmDefaults.probes),
    /** How long remediator and the replicas must have been without the primary. */
    window: durationSchema.default(confirmDefaults.window),
    /** How many answering replicas must have lost the primary: `majority` (more than half, at least one) or a count. */
    quorum: z.union([z.literal('majority'), z.number().int().min(1)]).default(confirmDefaults.quorum),
    /**
     * Each probe's timeout, connection included. Short, so that a hung primary (SIGSTOP, a full disk) counts as down
     * as fast as a dead one: a stopped process still completes TCP handshakes from its listen backlog.
     */
    probeTimeout: durationSchema.default(confirmDefaults.probeTimeout),
  })
  .default({ ...confirmDefaults });

/** `confirm:` after defaults. */
export type ConfirmParams = z.output<typeof confirmSchema>;
