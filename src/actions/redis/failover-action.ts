import { z } from 'zod';
import { defineAction } from '../../core/action.js';
import { durationSchema } from '../../core/duration.js';
import type { Inventory } from '../../inventory/inventory.js';
import type { PrimaryRecord } from '../../state/primary-record.js';
import { checkClusterRef, resolveCluster } from '../cluster-ref.js';
import { confirmSchema } from '../confirm/confirm-schema.js';
import { applyFailover, openFailoverSession, verifyFailover } from './apply.js';
import { confirmPrimaryDeath } from './confirm-primary.js';
import { planFailover, reachableMembers } from './plan.js';
import type { RedisMemberState } from './member-state.js';
import { probeMember } from './probe.js';
import { protectSchema } from './protect.js';

const redisFailoverSchema = z.strictObject({
  cluster: z.string().min(1),
  /** A replica further behind the freshest reachable one than this is never promoted. */
  maxLagBytes: z
    .number()
    .int()
    .nonnegative()
    .default(1024 * 1024), // 1 MiB
  /** A replica that lost its primary this long before the failure missed writes nobody can measure: never promoted. */
  maxStaleness: durationSchema.default(10_000),
  /**
   * When the primary failed (RFC 3339). Default: the latest moment a reachable replica lost its link, which is
   * when the primary died. The alert's startsAt is no substitute: Prometheus sets it only after the rule's `for:`.
   * Give it when a single replica may be left, whose staleness cannot be judged against another.
   */
  failedAt: z
    .string()
    .refine((text) => !Number.isNaN(Date.parse(text)), 'must be an RFC 3339 timestamp')
    .optional(),
  connectTimeout: durationSchema.default(2000),
  /**
   * false: fence only. A returned old primary is made a replica of the current one, but with no primary reachable
   * nothing is promoted: a promotion is a failover, which belongs to the budgeted, guarded remediation run, not
   * to a failback that runs whenever the alert resolves.
   */
  promote: z.boolean().default(true),
  /** How long to wait for the replicas to be linked to the new primary. */
  verifyTimeout: durationSchema.default(15_000),
  /** How the primary's death is confirmed before a promotion (never for fencing or repointing). */
  confirm: confirmSchema,
  /** min-replicas-to-write / min-replicas-max-lag set on the replica promoted, or false. */
  protect: protectSchema,
});

/**
 * Fails a Redis primary/replica cluster over, driven by live roles (INFO replication), never by what the
 * inventory says a member's role is. Idempotent: on a healthy cluster it changes nothing.
 * - No reachable primary: confirm that the primary the replicas follow is dead (confirm-primary.ts; otherwise the
 *   run ends skipped), probe again, then promote the freshest eligible replica (highest offset, then priority),
 *   protected (protect.ts), and repoint the rest.
 * - Several reachable primaries (an old primary came back): keep the recorded/most-followed one, fence the others
 *   by making them its replicas, so two primaries never accept writes.
 * Probe (probe.ts) → plan (plan.ts, pure) → apply and verify (apply.ts).
 */
export function createRedisFailoverAction(options: { inventory: Inventory; record?: PrimaryRecord }) {
  return defineAction({
    name: 'redis.failover',
    description: 'Promote the best Redis replica, fence the old primary, repoint the others, verify.',
    schema: redisFailoverSchema,
    defaultTimeoutMs: 60_000,
    checkRaw: (raw) => checkClusterRef(options.inventory, raw, 'redis'),
    async run(params, { logger, signal }) {
      const cluster = resolveCluster(options.inventory, params.cluster, 'redis');
      const session = openFailoverSession(cluster, {
        connectionName: 'remediator-failover',
        timeoutMs: params.connectTimeout,
        signal,
        logger,
      });
      const probeAll = async (timeoutMs: number, known: readonly RedisMemberState[] = []) => {
        const probed = await Promise.all(
          cluster.members.map(
            async (member) => known.find((state) => state.member === member) ?? probeMember(session.client(member), member, timeoutMs),
          ),
        );
        signal.throwIfAborted();
        reachableMembers(cluster.name, probed); // none reachable: fail before asking for the primary record
        return probed;
      };
      try {
        // A first look bounded by probeTimeout: a hung primary must not cost connectTimeout before its death is even
        // being confirmed. A member that does not answer that fast is asked again with connectTimeout when nothing is
        // to be promoted (a failback must not miss the returned primary it is to fence on a slow link).
        let states = await probeAll(Math.min(params.confirm.probeTimeout, params.connectTimeout));
        const recorded = await options.record?.get(cluster.name);
        let plan = planFailover({ cluster: cluster.name, states, recorded, params, now: Date.now() });
        if (!(plan.kind === 'converge' && plan.promote) && states.some((state) => !state.reachable)) {
          states = await probeAll(
            params.connectTimeout,
            states.filter((state) => state.reachable),
          );
          plan = planFailover({ cluster: cluster.name, states, recorded, params, now: Date.now() });
        }
        let confirmation: Awaited<ReturnType<typeof confirmPrimaryDeath>> | undefined;
        if (plan.kind === 'converge' && plan.promote) {
          confirmation = await confirmPrimaryDeath(cluster, states, params.confirm, { signal, logger });
          // The other states are as old as the confirmation window by now: plan again on fresh ones. The primary just
          // failed its last probe of the confirmation: asking it again would only add a probe timeout when it hangs.
          const dead = states.find((state) => state.member.name === confirmation?.primary);
          states = await probeAll(params.confirm.probeTimeout, dead ? [{ ...dead, reachable: false, error: 'confirmed dead' }] : []);
          plan = planFailover({ cluster: cluster.name, states, recorded, params, now: Date.now() });
        }
        if (plan.kind === 'none') {
          logger.warn({ cluster: cluster.name }, 'no primary reachable and promote: false: nothing to fence against, nothing changed');
          return { cluster: cluster.name, primary: null, changed: false, promoted: false, fenced: [], repointed: [], reason: plan.reason };
        }
        const { promoted, fenced, repointed, protection } = await applyFailover(session, plan, params.protect);
        await options.record?.set(cluster.name, plan.primary.member.name);
        await verifyFailover(
          session,
          plan.primary,
          states.filter((state) => state.reachable),
          params.verifyTimeout,
        );
        return {
          cluster: cluster.name,
          primary: plan.primary.member.name,
          ...(recorded === undefined ? {} : { previouslyRecorded: recorded }),
          changed: promoted || fenced.length > 0 || repointed.length > 0,
          promoted,
          fenced,
          repointed,
          unreachable: states.filter((state) => !state.reachable).map((state) => state.member.name),
          ...(confirmation ? { confirmation } : {}),
          ...(protection ? { protection } : {}),
        };
      } finally {
        session.close();
      }
    },
  });
}
