import type { Redis } from 'ioredis';
import type { PlaybookBudget } from '../core/playbook.js';

/** Fleet-wide limits, shared by every replica on the Redis. 0 means no limit. */
export interface GlobalBudget {
  /** At most this many runs act at once (a run waits for a slot). */
  readonly maxConcurrentRuns: number;
  /** Blast radius: at most this many distinct targets acted on per `targetsWindowMs`. */
  readonly maxTargets: number;
  readonly targetsWindowMs: number;
}

/** Why a run was refused by a budget. */
export type BudgetRefusal =
  | { kind: 'cooldown'; reason: string; lastRunAt: string }
  | { kind: 'max-runs'; reason: string; runsInWindow: number }
  | { kind: 'blast-radius'; reason: string; targetsInWindow: number };

/** The outcome of asking the budgets whether a run may act. */
export type BudgetDecision = { admitted: true } | ({ admitted: false } & BudgetRefusal);

/** Budgets and concurrency slots in Redis: atomic (Lua), so replicas cannot overspend them together. */
export interface RunBudgets {
  /**
   * Admits a run once: a retried or recovered run with the same id is admitted again without counting twice.
   * Dry runs use their own counters, so they make the decisions a live run would without spending its budget.
   */
  admit(request: {
    runId: string;
    playbook: string;
    target: string;
    budget: PlaybookBudget | undefined;
    global: GlobalBudget;
    dryRun: boolean;
    nowMs?: number;
  }): Promise<BudgetDecision>;
  /** Starts the cooldown: called when an admitted run ends, however it ended. */
  finished(request: {
    playbook: string;
    target: string;
    budget: PlaybookBudget | undefined;
    dryRun: boolean;
    nowMs?: number;
  }): Promise<void>;
  /**
   * Undoes what an admitted run took, when a step skipped it (it changed nothing): its entry in maxRuns, and the
   * cooldown mark while it is still this run's own (the same time as its admission), never a later run's.
   */
  standDown(request: { runId: string; playbook: string; target: string; dryRun: boolean }): Promise<void>;
  /**
   * Clears a playbook's cooldown and run count on a target (an operator's acknowledgement after a flap: the next
   * alert may act at once), live and dry-run alike.
   */
  reset(playbook: string, target: string): Promise<{ cleared: number }>;
  /** Takes one of `max` concurrency slots for `runId` for `ttlMs` (renewed while the run lives); false when all are taken. */
  acquireSlot(runId: string, max: number, ttlMs: number): Promise<boolean>;
  releaseSlot(runId: string): Promise<void>;
  /** Runs holding a slot now. */
  activeSlots(): Promise<number>;
}

// KEYS: admitted marker, last-run time, runs zset, targets zset.
// ARGV: runId, now, cooldown, maxRuns, window, target, maxTargets, targetsWindow, markerTtl.
const admitScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {1} end
local now = tonumber(ARGV[2])
local cooldown = tonumber(ARGV[3])
local maxRuns = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local maxTargets = tonumber(ARGV[7])
local targetsWindow = tonumber(ARGV[8])
if cooldown > 0 then
  local last = redis.call('GET', KEYS[2])
  if last and now - tonumber(last) < cooldown then return {0, 'cooldown', last} end
end
if maxRuns > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
  local count = redis.call('ZCARD', KEYS[3])
  if count >= maxRuns then return {0, 'max-runs', tostring(count)} end
end
if maxTargets > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - targetsWindow)
  if not redis.call('ZSCORE', KEYS[4], ARGV[6]) then
    local count = redis.call('ZCARD', KEYS[4])
    if count >= maxTargets then return {0, 'blast-radius', tostring(count)} end
  end
  redis.call('ZADD', KEYS[4], now, ARGV[6])
  redis.call('PEXPIRE', KEYS[4], targetsWindow)
end
if maxRuns > 0 then
  redis.call('ZADD', KEYS[3], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[3], window)
end
if cooldown > 0 then redis.call('SET', KEYS[2], now, 'PX', cooldown) end
redis.call('SET', KEYS[1], now, 'PX', ARGV[9])
return {1}`;

// KEYS: admitted marker, last-run time, runs zset; ARGV: runId. The admitted marker holds the admission time, which
// admit also wrote as the last-run time: equal values mean nobody acted on the target since.
const standDownScript = `
local admitted = redis.call('GET', KEYS[1])
if admitted and redis.call('GET', KEYS[2]) == admitted then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[3], ARGV[1])
return 1`;

// KEYS: slots zset. ARGV: runId, now, max, ttl. Members score their expiry, so a dead holder's slot frees itself.
const acquireSlotScript = `
local now = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
return 1`;

/** How long "this run was admitted" is remembered: longer than any retry of a run can take. */
const admittedTtlMs = 7 * 86_400_000;

/** Budgets under `prefix` in remediator's Redis. */
export function createRunBudgets(redis: Redis, options: { prefix: string }): RunBudgets {
  const base = (dryRun: boolean) => `${options.prefix}:budget${dryRun ? ':dry' : ''}`;
  const lastKey = (dryRun: boolean, playbook: string, target: string) => `${base(dryRun)}:last:${playbook}:${target}`;
  const runsKey = (dryRun: boolean, playbook: string, target: string) => `${base(dryRun)}:runs:${playbook}:${target}`;
  const slotsKey = `${options.prefix}:slots`;
  return {
    async admit({ runId, playbook, target, budget, global, dryRun, nowMs = Date.now() }) {
      const prefix = base(dryRun);
      const cooldown = budget?.cooldownMs ?? 0;
      const maxRuns = budget?.maxRuns ?? 0;
      const window = budget?.windowMs ?? 0;
      const reply = (await redis.eval(
        admitScript,
        4,
        `${prefix}:admitted:${runId}`,
        lastKey(dryRun, playbook, target),
        runsKey(dryRun, playbook, target),
        `${prefix}:targets`,
        runId,
        nowMs,
        cooldown,
        maxRuns,
        window,
        target,
        global.maxTargets,
        global.targetsWindowMs,
        admittedTtlMs,
      )) as [number, string?, string?];
      if (reply[0] === 1) return { admitted: true };
      const detail = reply[2] ?? '';
      if (reply[1] === 'cooldown') {
        const lastRunAt = new Date(Number(detail)).toISOString();
        return {
          admitted: false,
          kind: 'cooldown',
          lastRunAt,
          reason: `cooldown: ${playbook} last acted on ${target} at ${lastRunAt}, within its ${cooldown} ms cooldown`,
        };
      }
      if (reply[1] === 'max-runs') {
        return {
          admitted: false,
          kind: 'max-runs',
          runsInWindow: Number(detail),
          reason: `budget: ${playbook} already ran ${detail} time(s) on ${target} in the last ${window} ms (maxRuns ${maxRuns})`,
        };
      }
      return {
        admitted: false,
        kind: 'blast-radius',
        targetsInWindow: Number(detail),
        reason: `blast radius: ${detail} distinct targets were already acted on in the last ${global.targetsWindowMs} ms (limit ${global.maxTargets})`,
      };
    },
    async finished({ playbook, target, budget, dryRun, nowMs = Date.now() }) {
      if (!budget || budget.cooldownMs <= 0) return;
      await redis.set(lastKey(dryRun, playbook, target), nowMs, 'PX', budget.cooldownMs);
    },
    async standDown({ runId, playbook, target, dryRun }) {
      await redis.eval(
        standDownScript,
        3,
        `${base(dryRun)}:admitted:${runId}`,
        lastKey(dryRun, playbook, target),
        runsKey(dryRun, playbook, target),
        runId,
      );
    },
    async reset(playbook, target) {
      const keys = [false, true].flatMap((dryRun) => [lastKey(dryRun, playbook, target), runsKey(dryRun, playbook, target)]);
      return { cleared: await redis.del(...keys) };
    },
    async acquireSlot(runId, max, ttlMs) {
      return ((await redis.eval(acquireSlotScript, 1, slotsKey, runId, Date.now(), max, ttlMs)) as number) === 1;
    },
    async releaseSlot(runId) {
      await redis.zrem(slotsKey, runId);
    },
    async activeSlots() {
      return redis.zcount(slotsKey, Date.now(), '+inf');
    },
  };
}
