import { z } from 'zod';
import type { TargetHolds } from '../state/target-holds.js';
import { durationSchema } from '../core/duration.js';
import { defineAction, permanentError } from '../core/action.js';

const holdSchema = z.strictObject({
  /** The target whose automatic remediation is held (e.g. the cluster a failover playbook targets). */
  target: z.string().min(1),
  for: durationSchema.default(30 * 60_000),
  reason: z.string().min(1).default('held by a playbook'),
  /** Lift the hold instead (e.g. in the resolved: section). */
  release: z.boolean().default(false),
});

/** Holds (or releases) automatic remediation of a target: runs for it are skipped with the reason while held. */
export function createHoldAction(options: { holds: TargetHolds | undefined }) {
  return defineAction({
    name: 'remediator.hold',
    description: 'Hold (or release) automatic remediation of a target.',
    schema: holdSchema,
    defaultTimeoutMs: 10_000,
    async run(params, { runId, logger }) {
      const holds = options.holds;
      if (!holds) throw permanentError('remediator.hold needs remediator serve (its Redis)');
      if (params.release) {
        const released = await holds.release(params.target);
        logger.warn({ target: params.target }, 'hold released');
        return { target: params.target, released };
      }
      const hold = await holds.hold(params.target, params.for, params.reason, runId);
      logger.warn({ target: params.target, until: hold.until, reason: hold.reason }, 'automatic remediation held');
      return { target: params.target, ...hold };
    },
  });
}
