import { z } from 'zod';
import { switchoverParamsShape } from '../switchover-params.js';
import { defineAction, skipRun } from '../../core/action.js';
import { durationSchema } from '../../core/duration.js';
import { isTemplated } from '../../core/template/template.js';
import type { Inventory, InventoryMember } from '../../inventory/inventory.js';
import type { PrimaryRecord } from '../../state/primary-record.js';
import { createLocalRunMemory, type RunMemory } from '../../state/run-memory.js';
import { checkClusterRef, resolveCluster } from '../cluster-ref.js';
import { applyFailover, openFailoverSession, verifyFailover } from './apply.js';
import { probeMember } from './probe.js';
import { protectSchema } from './protect.js';
import { handOver } from './switchover-handover.js';
import { planSwitchover } from './switchover-plan.js';

const redisSwitchoverSchema = z.strictObject({
  ...switchoverParamsShape(1024 * 1024), // 1 MiB
  /** How long writes may stay stopped waiting for the candidate to catch up; then they resume and the step fails. */
  maxPause: durationSchema.refine((ms) => ms > 0, 'must be positive').default(5000),
  connectTimeout: durationSchema.default(2000),
  /** How long the members get to follow the new primary (and it to accept writes). */
  verifyTimeout: durationSchema.default(15_000),
  /** min-replicas-to-write / min-replicas-max-lag set on the member promoted, or false (as redis.failover). */
  protect: protectSchema,
});

/** How long a run remembers the member it promoted: a retry converges on it instead of switching again. */
const memoryTtlMs = 86_400_000; // 1 day

/**
 * A planned (or drilled) switchover of a Redis primary/replica cluster: writes stop on the primary, the candidate
 * catches up, is promoted, the old primary and the rest follow it (switchover-handover.ts); the write pause is
 * measured. Refused (the run ends skipped, nothing changed) when no candidate is fit. Idempotent: the member a run
 * promotes is recorded (PrimaryRecord, and the run's memory) before the promotion, so a retry converges on it.
 */
export function createRedisSwitchoverAction(options: { inventory: Inventory; record?: PrimaryRecord; memory?: RunMemory }) {
  const memory = options.memory ?? createLocalRunMemory();
  return defineAction({
    name: 'redis.switchover',
    description: 'Stop writes on the Redis primary, let a replica catch up, promote it, make the rest follow, measure the pause.',
    schema: redisSwitchoverSchema,
    defaultTimeoutMs: 60_000,
    checkRaw: (raw) => [...checkClusterRef(options.inventory, raw, 'redis'), ...checkMemberRef(options.inventory, raw)],
    async run(params, { logger, signal, runId }) {
      const cluster = resolveCluster(options.inventory, params.cluster, 'redis');
      const session = openFailoverSession(cluster, {
        connectionName: 'remediator-switchover',
        timeoutMs: params.connectTimeout,
        signal,
        logger,
      });
      const memoKey = `redis-switchover:${runId}:${cluster.name}`;
      try {
        const states = await Promise.all(
          cluster.members.map((member) => probeMember(session.client(member), member, params.connectTimeout)),
        );
        signal.throwIfAborted();
        const recorded = await options.record?.get(cluster.name);
        // A retry of a run that already chose (and maybe promoted) a member goes on with that member, never another.
        const to = (await memory.get(memoKey)) ?? params.to;
        const plan = planSwitchover({ cluster, states, recorded, params: { to, maxLagBytes: params.maxLagBytes } });
        const reachable = states.filter((state) => state.reachable);
        const unreachable = states.filter((state) => !state.reachable).map((state) => state.member.name);
        if (plan.kind === 'refuse') {
          logger.warn({ cluster: cluster.name, reason: plan.reason }, 'switchover refused');
          throw skipRun('switchover-refused', plan.reason, plan.details);
        }
        if (plan.kind === 'converge') {
          const { fenced, repointed } = await applyFailover(session, plan.plan, false);
          // An interrupted switchover may have left its pause on the member now fenced: it is a replica, lift it.
          for (const name of fenced) {
            const member = cluster.members.find((candidate) => candidate.name === name) as InventoryMember;
            // Best effort: a pause left there expires on its own, and the member refuses writes now anyway.
            await session
              .client(member)
              .call('CLIENT', 'UNPAUSE')
              .catch((error: unknown) => {
                logger.warn({ member: name, err: error }, 'could not lift the pause on the fenced member');
              });
          }
          await options.record?.set(cluster.name, plan.primary.member.name);
          await verifyFailover(session, plan.primary, reachable, params.verifyTimeout);
          const primary = plan.primary.member.name;
          return {
            cluster: cluster.name,
            from: primary,
            to: primary,
            mode: params.mode,
            changed: fenced.length + repointed.length > 0,
            note: `${primary} already is the primary${fenced.length + repointed.length > 0 ? '; the other members were made to follow it' : ''}`,
            fenced,
            repointed,
            unreachable,
          };
        }
        const result = await handOver(session, plan, {
          mode: params.mode,
          maxPauseMs: params.maxPause,
          commandTimeoutMs: params.connectTimeout,
          writableTimeoutMs: params.verifyTimeout,
          protect: params.protect,
          beforePromote: async () => {
            await memory.set(memoKey, plan.candidate.member.name, memoryTtlMs);
            await options.record?.set(cluster.name, plan.candidate.member.name);
          },
          promotionUndone: async () => {
            await options.record?.set(cluster.name, plan.primary.member.name);
          },
        });
        await verifyFailover(session, plan.candidate, reachable, params.verifyTimeout);
        const { writePauseMs, caughtUpMs, promotedMs, oldPrimaryFollowingMs, lostBytes, repointed, protection } = result;
        return {
          cluster: cluster.name,
          from: plan.primary.member.name,
          to: plan.candidate.member.name,
          mode: params.mode,
          changed: true,
          writePauseMs,
          lagBytesBefore: plan.lagBytes,
          ...(lostBytes === undefined ? {} : { lostBytes }),
          timings: { caughtUpMs, promotedMs, oldPrimaryFollowingMs },
          repointed,
          unreachable,
          ...(protection ? { protection } : {}),
        };
      } finally {
        session.close();
      }
    },
  });
}

/** Load-time check of a literal `to:`: a member of the literal cluster (a templated one is checked when the step runs). */
function checkMemberRef(inventory: Inventory, raw: Readonly<Record<string, unknown>>): { path: (string | number)[]; message: string }[] {
  const { cluster: name, to } = raw;
  if (typeof to !== 'string' || to === '' || isTemplated(to) || typeof name !== 'string' || isTemplated(name)) return [];
  const cluster = inventory.clusters.get(name);
  if (!cluster || cluster.members.some((member) => member.name === to)) return [];
  return [
    {
      path: ['to'],
      message: `no member "${to}" in cluster "${name}" (members: ${cluster.members.map((member) => member.name).join(', ')})`,
    },
  ];
}
