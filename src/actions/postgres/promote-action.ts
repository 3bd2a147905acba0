import { z } from 'zod';
import type { PrimaryRecord } from '../../state/primary-record.js';
import { defineAction, skipRun, type StepOutput } from '../../core/action.js';
import { durationSchema } from '../../core/duration.js';
import type { Inventory, InventoryMember } from '../../inventory/inventory.js';
import { checkClusterRef, resolveCluster } from '../cluster-ref.js';
import { confirmDeath, confirmSchema, type ConfirmationRecord } from '../confirm/index.js';
import { fenceStale, promoteStandby, readTimelineHistory, repointStandbys, verifyFollowing } from './apply.js';
import type { PrimaryState } from './member-state.js';
import { planFollowers, planPrimary, unknownOf, type ProbedCluster } from './plan.js';
import { probeCluster } from './probe.js';
import { createPostgresDeathObserver } from './death-observer.js';
import { protectPrimary, type Protection } from './protect.js';
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
  /** How the death of the primary is confirmed before a standby is promoted (docs/safety.md#confirmed-death). */
  confirm: confirmSchema,
  /**
   * After promoting, make the new primary commit only with a standby (synchronous_standby_names), so that it cannot
   * acknowledge writes should it later be cut off or come back stale. Left alone when it already names standbys.
   */
  protect: z.boolean().default(true),
  /**
   * false: fence only. Stale primaries are fenced and standbys repointed as usual, but with no primary answering
   * nothing is promoted and no death is confirmed: the run changes nothing and says why. For steps that must never
   * fail over (a failback, the fencing of a second writable member), which the budgeted failover run governs.
   */
  promote: z.boolean().default(true),
});

type PromoteParams = z.output<typeof postgresPromoteSchema>;

/**
 * Probe (probe.ts) → decide the primary (plan.ts) → confirm the death, promote, protect (protect.ts) → decide the
 * followers → fence, repoint, verify (apply.ts). With `promote: false` and no primary answering it stops after the plan.
 */
async function runPromote(session: PostgresSession, params: PromoteParams, record: PrimaryRecord | undefined): Promise<StepOutput> {
  const { states, locate } = await probeCluster(session);
  session.logger.info(
    {
      members: states.map((state) => ({ name: state.member.name, role: state.role, ...('error' in state ? { error: state.error } : {}) })),
    },
    'postgres.promote: probed members',
  );
  const cluster: ProbedCluster = { name: session.cluster.name, states, locate };
  const primaryPlan = planPrimary(cluster, params);
  const unreachable = [...states.filter((state) => state.role === 'down'), ...unknownOf(states)].map((state) => state.member.name);
  if (primaryPlan.kind === 'none') {
    const output = {
      primary: null,
      previous: primaryPlan.previous,
      changed: false,
      promoted: false,
      fenced: [],
      repointed: [],
      resumed: [],
      diverged: [],
      timeline: null,
      unreachable,
      confirmation: null,
      protection: null,
      reason: primaryPlan.reason,
    };
    session.logger.warn(output, 'postgres.promote: no primary answers and promote: false: nothing changed');
    return output;
  }

  let target: InventoryMember;
  let timeline: number;
  let stale: PrimaryState[] = [];
  let confirmation: ConfirmationRecord | null = null;
  if (primaryPlan.kind === 'keep') {
    target = primaryPlan.primary.member;
    timeline = primaryPlan.primary.timeline;
    stale = primaryPlan.stale;
  } else {
    confirmation = await confirmBeforePromoting(session, primaryPlan.previous, params);
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
  // The primary the cluster converged on: the reconcile loop fences any other member it later finds writable.
  await record?.set(session.cluster.name, target.name);
  let protection: Protection | null = null;
  if (promoted && params.protect) {
    const others = session.cluster.members.filter((member) => member.name !== target.name);
    protection = await protectPrimary(session, target, others);
  }

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
    unreachable,
    confirmation,
    protection,
  };
  session.logger.info(output, changed ? 'postgres.promote: cluster changed' : 'postgres.promote: nothing to do');
  return output;
}

/**
 * Confirms that `previous`, the primary the standbys followed, is dead (confirmDeath: remediator probes it, the other
 * members are asked about their WAL receivers); throws skipRun when it is not confirmed.
 */
async function confirmBeforePromoting(
  session: PostgresSession,
  previous: string | null,
  params: PromoteParams,
): Promise<ConfirmationRecord> {
  const primary = session.cluster.members.find((member) => member.name === previous);
  if (!primary) {
    throw skipRun(
      'death-unconfirmed',
      'no standby is configured to follow a member of the inventory: nobody can confirm that the primary is dead',
      { confirmation: null },
    );
  }
  const witnesses = session.cluster.members.filter((member) => member.name !== primary.name);
  const observer = createPostgresDeathObserver(session, { primary, witnesses, probeTimeout: params.confirm.probeTimeout });
  return confirmDeath(observer, params.confirm, session);
}

/**
 * Makes a PostgreSQL cluster have exactly one writable primary that every reachable standby follows: promotes
 * the freshest standby when no primary answers and its death is confirmed (never with `promote: false`), fences stale
 * primaries, repoints standbys, and makes a promoted primary commit only with a standby. Idempotent.
 * The inventory credentials need superuser rights (or grants for ALTER SYSTEM, pg_promote, pg_reload_conf,
 * pg_terminate_backend, pg_read_all_settings and pg_read_server_files).
 */
export function createPostgresPromoteAction(options: { inventory: Inventory; record?: PrimaryRecord }) {
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
        return await runPromote(session, params, options.record);
      } finally {
        await session.close();
      }
    },
  });
}
