import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { switchoverParamsShape } from '../switchover-params.js';
import type { PrimaryRecord } from '../../state/primary-record.js';
import { createLocalRunMemory, type RunMemory } from '../../state/run-memory.js';
import { defineAction, skipRun, transientError, type StepOutput } from '../../core/action.js';
import { durationSchema } from '../../core/duration.js';
import type { Inventory, InventoryMember } from '../../inventory/inventory.js';
import { checkClusterRef, resolveCluster } from '../cluster-ref.js';
import { fence, fenceStale, promoteStandby, readTimelineHistory, repointStandbys, verifyFollowing } from './apply.js';
import type { PrimaryState } from './member-state.js';
import { messageOf } from './pg-errors.js';
import { planFollowers, type ProbedCluster } from './plan.js';
import { probeCluster } from './probe.js';
import { createPostgresSession, type PostgresSession } from './session.js';
import { planSwitchover } from './switchover-plan.js';
import { checkpoint, flushedWal, resumeWrites, waitForReplay } from './write-stop.js';

const positiveDuration = durationSchema.refine((ms) => ms > 0, 'must be more than 0');

const postgresSwitchoverSchema = z.strictObject({
  ...switchoverParamsShape(16 * 1024 * 1024), // 16 MiB
  /** How long writes may stay stopped waiting for the candidate to replay: then they resume and the step fails. */
  catchUpTimeout: positiveDuration.default(10_000),
  /** Per member connection; a member that does not answer within it counts as down. */
  connectTimeout: positiveDuration.default(3000),
  /** How long pg_promote may take. */
  promoteTimeout: positiveDuration.default(60_000),
});

type SwitchoverParams = z.output<typeof postgresSwitchoverSchema>;

/** What a run remembers across its retries: it stopped writes on `from` to promote `to`. */
const memorySchema = z.object({ from: z.string(), to: z.string() });
const memoryTtlMs = 86_400_000; // 1 day: longer than any run with its retries

/** What this run remembered, if anything (a value it cannot read counts as nothing). */
function recalled(text: string | undefined): z.output<typeof memorySchema> | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = memorySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Milliseconds since `start`, whole. */
const since = (start: number) => Math.round(performance.now() - start);

interface Dependencies {
  record: PrimaryRecord | undefined;
  memory: RunMemory;
  runId: string;
}

/**
 * Probe → plan (switchover-plan.ts) → remember the choice → stop writes on the primary (the fence of apply.ts) →
 * planned: checkpoint and wait until the candidate replayed the primary's flushed WAL (bounded: on expiry writes
 * resume) → promote → record → make every other member follow (apply.ts) → verify.
 */
async function runSwitchover(session: PostgresSession, params: SwitchoverParams, deps: Dependencies): Promise<StepOutput> {
  const memoryKey = `postgres.switchover:${deps.runId}`;
  const earlier = recalled(await deps.memory.get(memoryKey));
  const { states, locate } = await probeCluster(session);
  const cluster: ProbedCluster = { name: session.cluster.name, states, locate };
  // A retry follows this run's own choice, whatever `to` says: a switchover done must not be switched back.
  const plan = planSwitchover(cluster, {
    to: earlier?.to ?? params.to,
    maxLagBytes: params.maxLagBytes,
    fencedByThisRun: earlier?.from,
  });
  if (plan.kind === 'refused') {
    session.logger.warn({ reason: plan.reason, ...plan.details }, 'postgres.switchover: refused');
    throw skipRun('switchover-refused', plan.reason, plan.details);
  }
  if (plan.kind === 'already') {
    const primary = plan.primary.member;
    const converged = await makeFollow(session, cluster, primary, plan.primary.timeline, plan.stale);
    await deps.record?.set(session.cluster.name, primary.name);
    const output = {
      from: earlier?.from ?? primary.name,
      to: primary.name,
      mode: params.mode,
      changed: converged.changed,
      writePauseMs: 0,
      reason: `${primary.name} is the primary already`,
      ...converged.output,
    };
    session.logger.info(output, 'postgres.switchover: the primary is the one asked for');
    return output;
  }

  const { primary, candidate } = plan;
  const from = primary.member;
  const to = candidate.member;
  await deps.memory.set(memoryKey, JSON.stringify({ from: from.name, to: to.name }), memoryTtlMs);
  session.logger.warn(
    { from: from.name, to: to.name, mode: params.mode, lagBytes: Number(plan.lagBytes) },
    'postgres.switchover: switching the primary',
  );
  const steps: Record<string, number> = {};
  if (params.mode === 'planned') {
    const started = performance.now();
    await checkpoint(session, from, params.promoteTimeout);
    steps.checkpointMs = since(started);
  }

  const stopped = performance.now();
  let flushed;
  try {
    await fence(session, from, 'postgres.switchover: writes stopped on the primary (default_transaction_read_only = on, sessions ended)');
    steps.stopWritesMs = since(stopped);
    const started = performance.now();
    flushed = await flushedWal(session, from, { checkpoint: params.mode === 'planned', timeoutMs: params.catchUpTimeout });
    if (params.mode === 'planned') {
      const caughtUp = await waitForReplay(session, to, flushed.position, params.catchUpTimeout);
      steps.catchUpMs = since(started);
      if (!caughtUp.ok) {
        const seen = caughtUp.replayed === undefined ? 'nothing' : `${flushed.position - caughtUp.replayed} bytes short`;
        throw transientError(
          `${to.name} did not replay up to ${from.name}'s last WAL (${flushed.lsn}) within ${params.catchUpTimeout} ms (${seen}${caughtUp.lastError ? `; ${caughtUp.lastError}` : ''}): not switched, writes resumed on ${from.name}`,
        );
      }
    }
  } catch (error) {
    await undoWriteStop(session, from, error);
    throw error;
  }

  const promoting = performance.now();
  let timeline: number;
  try {
    timeline = await promoteStandby(session, candidate, params.promoteTimeout);
  } catch (error) {
    // The promotion may still complete: lifting the write stop now could leave two writable primaries.
    session.logger.error(
      { from: from.name, to: to.name, error: messageOf(error) },
      'postgres.switchover: the promotion failed; writes stay stopped on the old primary until a rerun finishes the switchover',
    );
    throw error;
  }
  steps.promoteMs = since(promoting);
  const writePauseMs = since(stopped);
  // At once: the reconcile loop fences any writable member the record does not name.
  await deps.record?.set(session.cluster.name, to.name);

  const following = performance.now();
  // Until its first checkpoint its control file still shows the old timeline, and pg_rewind, which reads it, would
  // see nothing to rewind the old primary onto.
  await checkpoint(session, to, params.promoteTimeout);
  const converged = await makeFollow(session, cluster, to, timeline, plan.stale, from);
  steps.followMs = since(following);
  const lostBytes = params.mode === 'unplanned' ? await bytesLost(session, to, timeline, primary, flushed.position) : undefined;
  const output = {
    from: from.name,
    to: to.name,
    mode: params.mode,
    changed: true,
    writePauseMs,
    lagBytesBefore: Number(plan.lagBytes),
    ...(params.mode === 'unplanned' ? { lostBytes } : {}),
    steps,
    ...converged.output,
    fenced: [from.name, ...converged.output.fenced],
  };
  session.logger.warn(output, 'postgres.switchover: switched the primary');
  return output;
}

/**
 * Makes every reachable member follow `primary` on `timeline`, as postgres.promote does: stale primaries fenced (the
 * old one, `fencedAlready`, was by this run), standbys repointed, and verified streaming from it.
 */
async function makeFollow(
  session: PostgresSession,
  cluster: ProbedCluster,
  primary: InventoryMember,
  timeline: number,
  stale: readonly PrimaryState[],
  fencedAlready?: InventoryMember,
) {
  const history = await readTimelineHistory(session, primary, timeline);
  const followers = planFollowers({ cluster, target: primary, timeline, history, promoted: fencedAlready !== undefined, stale });
  const fenced = await fenceStale(
    session,
    followers.fence.filter((state) => state.member.name !== fencedAlready?.name),
  );
  const { repointed, resumed } = await repointStandbys(session, primary, followers.repoint);
  if (followers.diverged.length > 0)
    session.logger.error(
      { diverged: followers.diverged, primary: primary.name, timeline },
      'postgres.switchover: standbys hold WAL the primary lacks and cannot follow it; left untouched: rewind or rebuild them',
    );
  await verifyFollowing(session, primary, followers.repoint);
  return {
    changed: fenced.length + repointed.length + resumed.length > 0,
    output: { timeline, fenced, repointed, resumed, diverged: followers.diverged },
  };
}

/**
 * Lifts the write stop after the switch was given up, on a session of its own: the run's may be aborted (the step's
 * timeout), and the old primary must never stay read-only. A failure to lift it is logged with the original error.
 */
async function undoWriteStop(session: PostgresSession, primary: InventoryMember, cause: unknown): Promise<void> {
  const undo = createPostgresSession({
    cluster: session.cluster,
    connectTimeout: session.connectTimeout,
    signal: AbortSignal.timeout(60_000),
    logger: session.logger,
  });
  try {
    await resumeWrites(undo, primary);
  } catch (error) {
    session.logger.error(
      { member: primary.name, error: messageOf(error), cause: messageOf(cause) },
      'postgres.switchover: could not lift the write stop: the primary stays read-only until ALTER SYSTEM RESET default_transaction_read_only',
    );
  } finally {
    await undo.close();
  }
}

/** Bytes of WAL the old primary had flushed beyond where the new timeline forked off (null when unknown). */
async function bytesLost(
  session: PostgresSession,
  target: InventoryMember,
  timeline: number,
  old: PrimaryState,
  flushed: bigint,
): Promise<number | null> {
  const fork = (await readTimelineHistory(session, target, timeline))?.get(old.timeline);
  return fork === undefined ? null : Number(flushed > fork ? flushed - fork : 0n);
}

/**
 * Switches the primary of a PostgreSQL cluster to a standby on purpose: `planned`, no acknowledged write is lost
 * (writes stop, the standby replays everything, then it is promoted); `unplanned`, the standby is promoted at once
 * as a failover would. The old primary stays fenced read-only (PostgreSQL cannot demote a primary without a restart:
 * rewind it and start it as a standby, and the next run repoints it). Refusals end the run skipped; idempotent.
 */
export function createPostgresSwitchoverAction(options: {
  inventory: Inventory;
  record?: PrimaryRecord | undefined;
  /** Remembers a run's choice across its retries (remediator's Redis); one process's memory when absent. */
  memory?: RunMemory | undefined;
}) {
  const { inventory } = options;
  const memory = options.memory ?? createLocalRunMemory();
  return defineAction({
    name: 'postgres.switchover',
    description: 'Switch the PostgreSQL primary to a caught-up standby: stop writes, wait for replay, promote, repoint.',
    schema: postgresSwitchoverSchema,
    defaultTimeoutMs: 180_000,
    checkRaw(raw) {
      return checkClusterRef(inventory, raw, 'postgres');
    },
    async run(params, { signal, logger, runId }) {
      const cluster = resolveCluster(inventory, params.cluster, 'postgres');
      const session = createPostgresSession({ cluster, connectTimeout: params.connectTimeout, signal, logger });
      try {
        return await runSwitchover(session, params, { record: options.record, memory, runId });
      } finally {
        await session.close();
      }
    },
  });
}
