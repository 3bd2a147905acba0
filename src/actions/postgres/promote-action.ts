import { z } from 'zod';
import { defineAction, type StepOutput } from '../../core/action.js';
import { durationSchema } from '../../core/duration.js';
import type { Inventory, InventoryMember } from '../../inventory/inventory.js';
import { checkClusterRef, resolveCluster } from '../cluster-ref.js';
import { fenceStale, promoteStandby, readTimelineHistory, repointStandbys, verifyFollowing } from './apply.js';
import type { PrimaryState } from './member-state.js';
import { planFollowers, planPrimary, unknownOf, type ProbedCluster } from './plan.js';
import { probeCluster } from './probe.js';
import { createPostgresSession, type PostgresSession } from './session.js';

const positiveDuration = durationSchema.refine((ms) => ms > 0, 'must be more than 0');

const postgresPromoteSchema = z.strictObject({
  cluster: z.string().min(1),
  /** The freshest standby is not promoted when it would lose, or still has to replay, more WAL than this. */
  maxLagBytes: z
    .number()
    .int()
    .nonnegative()
    .default(16 * 1024 * 1024), // 16 MiB
  /** Per member connection; a member that does not answer within it counts as down. */
  connectTimeout: positiveDuration.default(3000),
  /** How long pg_promote may take (replaying what the standby received, then switching timeline). */
  promoteTimeout: positiveDuration.default(60_000),
});

type PromoteParams = z.output<typeof postgresPromoteSchema>;

/** Probe (probe.ts) → decide the primary (plan.ts) → promote → decide the followers → fence, repoint, verify (apply.ts). */
async function runPromote(session: PostgresSession, params: PromoteParams): Promise<StepOutput> {
  const { states, locate } = await probeCluster(session);
  session.logger.info(
    {
      members: states.map((state) => ({ name: state.member.name, role: state.role, ...('error' in state ? { error: state.error } : {}) })),
    },
    'postgres.promote: probed members',
  );
  const cluster: ProbedCluster = { name: session.cluster.name, states, locate };
  const primaryPlan = planPrimary(cluster, params);

  let target: InventoryMember;
  let timeline: number;
  let stale: PrimaryState[] = [];
  if (primaryPlan.kind === 'keep') {
    target = primaryPlan.primary.member;
    timeline = primaryPlan.primary.timeline;
    stale = primaryPlan.stale;
  } else {
    target = primaryPlan.candidate.member;
    timeline = await promoteStandby(session, primaryPlan.candidate, params.promoteTimeout);
  }
  const promoted = primaryPlan.kind === 'promote';

  // Every other reachable standby must follow the target; those that already do are left alone, and those
  // holding WAL the target lacks cannot.
  const history = await readTimelineHistory(session, target, timeline);
  const followers = planFollowers({ cluster, target, timeline, history, promoted, stale });
  const fenced = await fenceStale(session, followers.fence);
  const { repointed, resumed } = await repointStandbys(session, target, followers.repoint);
  const { diverged } = followers;
  if (diverged.length > 0) {
    session.logger.error(
      { diverged, primary: target.name, timeline },
      'postgres.promote: standbys hold WAL the primary lacks and cannot follow it; left untouched: rewind or rebuild them',
    );
  }
  await verifyFollowing(session, target, followers.repoint);

  const changed = promoted || fenced.length > 0 || repointed.length > 0 || resumed.length > 0;
  const output = {
    primary: target.name,
    previous: primaryPlan.previous,
    changed,
    promoted,
    fenced,
    repointed,
    resumed,
    diverged,
    timeline,
    unreachable: [...states.filter((state) => state.role === 'down'), ...unknownOf(states)].map((state) => state.member.name),
  };
  session.logger.info(output, changed ? 'postgres.promote: cluster changed' : 'postgres.promote: nothing to do');
  return output;
}

/**
 * Makes a PostgreSQL cluster have exactly one writable primary that every reachable standby follows: promotes
 * the freshest standby when no primary answers, fences stale primaries, repoints standbys. Idempotent.
 * The inventory credentials need superuser rights (or grants for ALTER SYSTEM, pg_promote, pg_reload_conf,
 * pg_terminate_backend, pg_read_all_settings and pg_read_server_files).
 */
export function createPostgresPromoteAction(options: { inventory: Inventory }) {
  const { inventory } = options;
  return defineAction({
    name: 'postgres.promote',
    description: 'Promote the freshest PostgreSQL standby when the primary is gone, fence stale primaries, repoint standbys.',
    schema: postgresPromoteSchema,
    defaultTimeoutMs: 180_000,
    checkRaw(raw) {
      return checkClusterRef(inventory, raw, 'postgres');
    },
    async run(params, { signal, logger }) {
      const cluster = resolveCluster(inventory, params.cluster, 'postgres');
      const session = createPostgresSession({ cluster, connectTimeout: params.connectTimeout, signal, logger });
      try {
        return await runPromote(session, params);
      } finally {
        await session.close();
      }
    },
  });
}
