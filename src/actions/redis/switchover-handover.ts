import type { Redis } from 'ioredis';
import { transientError } from '../../core/action.js';
import { infoNumber, parseInfo } from '../../inventory/redis-info.js';
import { sleep } from '../../util/sleep.js';
import type { FailoverSession } from './apply.js';
import { memberStateOf } from './probe.js';
import { protectPromoted, type ProtectParams, type Protection } from './protect.js';
import type { SwitchoverPlan } from './switchover-plan.js';

/** How often the candidate's offset is compared with the primary's while writes are stopped. */
const catchUpPollMs = 5;

/** How a handover runs. */
export interface HandoverOptions {
  /** planned: wait until the candidate has every byte the primary wrote; unplanned: promote at once. */
  mode: 'planned' | 'unplanned';
  /** How long writes may stay stopped waiting for the catch-up. */
  maxPauseMs: number;
  /** The bound of one command to a member (the pause's own timeout leaves room for two). */
  commandTimeoutMs: number;
  /** How long the new primary gets to accept writes (its replicas linked, for min-replicas-to-write). */
  writableTimeoutMs: number;
  protect: ProtectParams;
  /** Called once the candidate is ready, just before it is promoted: records it, so a rerun converges on it. */
  beforePromote: () => Promise<void>;
  /** Called when the promotion was refused and nothing changed: undoes beforePromote. */
  promotionUndone: () => Promise<void>;
}

/** What a handover did, for the step's output; milliseconds from the moment writes stopped. */
export interface HandoverResult {
  /** Writes stopped on the old primary → the new primary accepts writes. */
  writePauseMs: number;
  caughtUpMs: number;
  promotedMs: number;
  oldPrimaryFollowingMs: number;
  /** unplanned: how many bytes of the old primary's stream the promoted member did not have. */
  lostBytes?: number;
  repointed: string[];
  protection?: Protection;
}

/**
 * Hands the primary role from `plan.primary` to `plan.candidate`: `CLIENT PAUSE <t> WRITE` on the primary (t bounds
 * the stop even if remediator dies: the wait plus two commands), wait until the candidate's offset equals the
 * primary's (planned), `REPLICAOF NO ONE` on the candidate (protected first), `REPLICAOF candidate` on the old
 * primary, `CLIENT UNPAUSE` there (the writes it held get READONLY: never acknowledged, so nothing acknowledged is
 * lost), then the other members. A catch-up that does not come within maxPauseMs unpauses and fails: nothing
 * changed.
 */
export async function handOver(
  session: FailoverSession,
  plan: Extract<SwitchoverPlan, { kind: 'switch' }>,
  options: HandoverOptions,
): Promise<HandoverResult> {
  const { client, signal, logger, cluster } = session;
  const { primary, candidate, others } = plan;
  const old = client(primary.member);
  const next = client(candidate.member);
  // Inert on a replica: set before the pause so that it costs the pause nothing (see protect.ts).
  const protection =
    options.protect === false
      ? undefined
      : await protectPromoted(next, options.protect, others.length + 1, { member: candidate.member.name, logger });
  // How many replicas the new primary will wait for before it takes writes: asked now, not during the pause.
  const needed = protection?.applied === true ? protection.minReplicasToWrite : await configuredMinReplicas(next);
  const pauseTimeoutMs = options.maxPauseMs + 2 * options.commandTimeoutMs;
  const started = performance.now();
  const since = () => Math.round((performance.now() - started) * 10) / 10; // 0.1 ms
  logger.warn({ cluster: cluster.name, primary: primary.member.name, pauseTimeoutMs }, 'stopping writes for a switchover');
  await old.call('CLIENT', 'PAUSE', String(pauseTimeoutMs), 'WRITE');
  let lostBytes: number | undefined;
  let caughtUpMs: number;
  try {
    lostBytes = await catchUp(old, next, plan, options, started, signal);
    caughtUpMs = since();
    await options.beforePromote();
  } catch (error) {
    // Nothing changed yet: writes resume on the old primary.
    await old.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    throw error;
  }
  await promote(session, plan, options);
  const promotedMs = since();
  // The old primary is fenced before its pause ends: the writes it held are then refused, never taken.
  try {
    await old.call('REPLICAOF', candidate.member.host, String(candidate.member.port));
  } catch (error) {
    throw transientError(
      `${candidate.member.name} is primary, but ${primary.member.name} could not be made its replica (${(error as Error).message}): ` +
        `it stays paused for at most ${pauseTimeoutMs} ms; a retry, or redis.failover once it answers, fences it`,
      error,
    );
  }
  await old.call('CLIENT', 'UNPAUSE');
  const oldPrimaryFollowingMs = since();
  logger.warn({ cluster: cluster.name, primary: candidate.member.name, previous: primary.member.name }, 'switched over');
  const repointed: string[] = [];
  for (const state of others) {
    signal.throwIfAborted();
    await client(state.member).call('REPLICAOF', candidate.member.host, String(candidate.member.port));
    repointed.push(state.member.name);
  }
  await writable(next, needed, options.writableTimeoutMs, signal);
  return {
    writePauseMs: since(),
    caughtUpMs,
    promotedMs,
    oldPrimaryFollowingMs,
    ...(lostBytes === undefined ? {} : { lostBytes }),
    repointed,
    ...(protection ? { protection } : {}),
  };
}

/**
 * planned: polls both offsets until the candidate holds all the primary wrote (the primary's may still move by its
 * replication PINGs, which a pause does not stop), within maxPauseMs. unplanned: how far behind it is now.
 */
async function catchUp(
  old: Redis,
  next: Redis,
  plan: Extract<SwitchoverPlan, { kind: 'switch' }>,
  options: HandoverOptions,
  started: number,
  signal: AbortSignal,
): Promise<number | undefined> {
  for (;;) {
    const [primaryInfo, candidateInfo] = await Promise.all([old.info('replication'), next.info('replication')]);
    const primaryOffset = infoNumber(parseInfo(primaryInfo), 'master_repl_offset');
    const candidate = memberStateOf(plan.candidate.member, parseInfo(candidateInfo));
    const applied = candidate.appliedOffset ?? candidate.offset;
    if (options.mode === 'unplanned') return Math.max(0, primaryOffset - applied);
    if (candidate.role !== 'slave' || candidate.primary !== plan.primary.member.address) {
      throw transientError(`${plan.candidate.member.name} stopped replicating from ${plan.primary.member.name} during the switchover`);
    }
    if (applied >= primaryOffset) return undefined;
    if (performance.now() - started > options.maxPauseMs) {
      throw transientError(
        `${plan.candidate.member.name} did not catch up with ${plan.primary.member.name} within maxPause (${options.maxPauseMs} ms): ` +
          `${primaryOffset - applied} bytes behind; writes resumed on ${plan.primary.member.name}, nothing changed`,
      );
    }
    await sleep(catchUpPollMs, signal);
  }
}

/**
 * REPLICAOF NO ONE on the candidate. When that fails, its role decides: a replica still means nothing changed (the
 * pause is lifted); a primary means it went through; no answer leaves the old primary paused (its pause expires
 * on its own) and fails: a rerun converges on the recorded candidate if it did become primary.
 */
async function promote(
  session: FailoverSession,
  plan: Extract<SwitchoverPlan, { kind: 'switch' }>,
  options: HandoverOptions,
): Promise<void> {
  const next = session.client(plan.candidate.member);
  try {
    await next.call('REPLICAOF', 'NO', 'ONE');
    return;
  } catch (error) {
    const role = await next
      .info('replication')
      .then((info) => parseInfo(info).get('role'))
      .catch(() => undefined);
    if (role === 'master') return;
    if (role !== undefined) {
      await session
        .client(plan.primary.member)
        .call('CLIENT', 'UNPAUSE')
        .catch(() => undefined);
      await options.promotionUndone();
    }
    throw transientError(`promoting ${plan.candidate.member.name} failed: ${(error as Error).message}`, error);
  }
}

/**
 * Waits until the new primary accepts writes: a primary with min-replicas-to-write refuses them (NOREPLICAS) until
 * that many replicas acknowledged it, which INFO reports as min_slaves_good_slaves.
 */
async function writable(next: Redis, needed: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const info = parseInfo(await next.info('replication'));
    if (
      info.get('role') === 'master' &&
      (needed === 0 || !info.has('min_slaves_good_slaves') || infoNumber(info, 'min_slaves_good_slaves') >= needed)
    )
      return;
    if (performance.now() > deadline)
      throw transientError(`the new primary does not accept writes after ${timeoutMs} ms (${needed} replica(s) needed)`);
    await sleep(catchUpPollMs, signal);
  }
}

/** min-replicas-to-write as configured; 0 when CONFIG is refused (nothing to wait for that can be known). */
async function configuredMinReplicas(client: Redis): Promise<number> {
  const reply = await client.call('CONFIG', 'GET', 'min-replicas-to-write').catch(() => []);
  return Array.isArray(reply) ? Number(reply[1] ?? 0) : 0;
}
