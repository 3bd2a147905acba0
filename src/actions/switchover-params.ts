import { z } from 'zod';

/**
 * The parameters redis.switchover and postgres.switchover share (the built-in switchover playbooks pass them the
 * same way), with the lag bound each one defaults to.
 */
export function switchoverParamsShape(defaultMaxLagBytes: number) {
  return {
    cluster: z.string().min(1),
    /** The member to promote, by inventory name; '' chooses the one furthest ahead (then priority). */
    to: z.string().default(''),
    /** planned: no acknowledged write lost; unplanned (failover drills): promote at once, as a failover would. */
    mode: z.enum(['planned', 'unplanned']).default('planned'),
    /** A candidate further behind the primary than this before writes stop is refused. */
    maxLagBytes: z.number().int().nonnegative().default(defaultMaxLagBytes),
  };
}
