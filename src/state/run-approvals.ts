import type { Redis } from 'ioredis';
import { z } from 'zod';

/** A human decision on a run waiting for approval. */
export const approvalDecisionSchema = z.object({
  decision: z.enum(['approved', 'rejected']),
  by: z.string(),
  /** Where it was made: the runs API, the queue UI, or a signed approval link. */
  via: z.enum(['api', 'queue-ui', 'link']),
  at: z.string(),
  comment: z.string().optional(),
});

/** A human decision on a run waiting for approval. */
export type ApprovalDecision = z.output<typeof approvalDecisionSchema>;

/**
 * Decisions live in their own Redis key, not in the job: the API writes while a worker may be updating the
 * job's data, and the first decision wins (SET NX), so a late second click cannot flip it.
 */
export interface RunApprovals {
  /** Records `decision` unless one exists; returns the decision that stands. */
  decide(runId: string, decision: ApprovalDecision): Promise<{ recorded: boolean; decision: ApprovalDecision }>;
  get(runId: string): Promise<ApprovalDecision | undefined>;
}

/** Approval decisions under `prefix`, kept for `retentionMs` (as long as the run itself). */
export function createRunApprovals(redis: Redis, options: { prefix: string; retentionMs: number }): RunApprovals {
  const key = (runId: string) => `${options.prefix}:approval:${runId}`;
  const read = (text: string | null) => {
    if (text === null) return undefined;
    const parsed = approvalDecisionSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  };
  return {
    async decide(runId, decision) {
      const set = await redis.set(key(runId), JSON.stringify(decision), 'PX', options.retentionMs, 'NX');
      if (set === 'OK') return { recorded: true, decision };
      const standing = read(await redis.get(key(runId)));
      return { recorded: false, decision: standing ?? decision };
    },
    async get(runId) {
      return read(await redis.get(key(runId)));
    },
  };
}
