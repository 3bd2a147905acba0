import type { Redis } from 'ioredis';
import { drillOutcomes, type DrillMetricsRecord, type DrillMetricsSource, type DrillOutcome } from '../metrics/drill-metrics.js';
import type { Drill } from './drill.js';

export { drillOutcomes, type DrillOutcome } from '../metrics/drill-metrics.js';

/** Where one occurrence stands: looked at and refused so far, started (a run exists), or missed for good. */
export type OccurrenceState = { state: 'blocked' | 'missed'; reason: string } | { state: 'started'; runId: string };

/** What Redis holds about one drill (times in ms since the epoch). */
export interface DrillRecord extends DrillMetricsRecord {
  /** Why the last occurrence was missed or its run did not succeed. */
  readonly lastReason?: string;
}

/** A drill run that ended: its run id (an attempt that ends it twice is counted once), outcome and RTO. */
export interface DrillRunEnd {
  readonly runId: string;
  readonly outcome: Exclude<DrillOutcome, 'missed'>;
  readonly at: number;
  readonly rtoMs?: number;
  readonly reason?: string;
}

/** The drills' state in remediator's Redis, shared by every process of a queue. */
export interface DrillState {
  /** Notes that the drill is configured (the first time only) and returns when that was. */
  noteScheduled(drill: string, now: number): Promise<number>;
  occurrence(drill: string, at: number): Promise<OccurrenceState | undefined>;
  /** Notes why the occurrence could not start yet; never over a started or missed one. */
  noteBlocked(drill: string, at: number, reason: string, ttlMs: number): Promise<void>;
  markStarted(drill: string, at: number, runId: string, ttlMs: number): Promise<void>;
  /**
   * Ends an occurrence that never started as missed, with the reason it was last refused for (or `reason` when no
   * pass looked at it): true when this call did it, false when it had started or was already missed.
   */
  markMissed(drill: string, at: number, reason: string, now: number, ttlMs: number): Promise<boolean>;
  /** Records a drill run's end; false when this run was already recorded. */
  recordRun(drill: string, end: DrillRunEnd): Promise<boolean>;
  /** Each drill's record, noting it as scheduled when no process had yet. */
  read(drills: readonly Pick<Drill, 'name'>[], now: number): Promise<Map<string, DrillRecord>>;
}

// KEYS[1] occurrence, KEYS[2] drill hash; ARGV state (blocked | missed), reason, ttl ms, now ms.
// An occurrence that started or was missed is final; a missed one keeps the reason it was last refused for.
const settleScript = `
local current = redis.call('GET', KEYS[1])
local reason = ARGV[2]
if current then
  local state, detail = string.match(current, '^(%a+) ?(.*)$')
  if state == 'started' or state == 'missed' then return 0 end
  if ARGV[1] == 'missed' and state == 'blocked' and detail ~= '' then reason = detail end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. reason, 'PX', ARGV[3])
if ARGV[1] == 'missed' then
  redis.call('HINCRBY', KEYS[2], 'runs:missed', 1)
  redis.call('HSET', KEYS[2], 'lastOutcome', 'missed', 'lastMissedAt', ARGV[4], 'lastReason', reason)
end
return 1`;

// KEYS[1] drill hash; ARGV run id, outcome, at ms, rto ms or '', reason or ''.
const recordRunScript = `
if redis.call('HGET', KEYS[1], 'lastRunId') == ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lastRunId', ARGV[1], 'lastRunAt', ARGV[3], 'lastOutcome', ARGV[2], 'lastReason', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'runs:' .. ARGV[2], 1)
if ARGV[2] == 'succeeded' then
  redis.call('HSET', KEYS[1], 'lastSuccessAt', ARGV[3])
  if ARGV[4] == '' then redis.call('HDEL', KEYS[1], 'lastRtoMs') else redis.call('HSET', KEYS[1], 'lastRtoMs', ARGV[4]) end
end
return 1`;

/** DrillState under `prefix` (`remediator:<queue>`): a hash per drill, and a key per occurrence that expires. */
export function createDrillState(redis: Redis, prefix: string): DrillState {
  const drillKey = (drill: string) => `${prefix}:drill:${drill}`;
  const occurrenceKey = (drill: string, at: number) => `${prefix}:drill:${drill}:at:${at}`;
  const ttl = (ms: number) => Math.max(1000, Math.ceil(ms));
  return {
    async noteScheduled(drill, now) {
      await redis.hsetnx(drillKey(drill), 'firstScheduledAt', now);
      return Number((await redis.hget(drillKey(drill), 'firstScheduledAt')) ?? now);
    },
    async occurrence(drill, at) {
      const value = await redis.get(occurrenceKey(drill, at));
      return value === null ? undefined : parseOccurrence(value);
    },
    async noteBlocked(drill, at, reason, ttlMs) {
      await redis.eval(settleScript, 2, occurrenceKey(drill, at), drillKey(drill), 'blocked', reason, ttl(ttlMs), 0);
    },
    async markStarted(drill, at, runId, ttlMs) {
      await redis.set(occurrenceKey(drill, at), `started ${runId}`, 'PX', ttl(ttlMs));
    },
    async markMissed(drill, at, reason, now, ttlMs) {
      return (await redis.eval(settleScript, 2, occurrenceKey(drill, at), drillKey(drill), 'missed', reason, ttl(ttlMs), now)) === 1;
    },
    async recordRun(drill, end) {
      const done = await redis.eval(
        recordRunScript,
        1,
        drillKey(drill),
        end.runId,
        end.outcome,
        end.at,
        end.rtoMs === undefined ? '' : Math.round(end.rtoMs),
        end.reason ?? '',
      );
      return done === 1;
    },
    async read(drills, now) {
      if (drills.length === 0) return new Map();
      const pipeline = redis.pipeline();
      for (const drill of drills) pipeline.hsetnx(drillKey(drill.name), 'firstScheduledAt', now).hgetall(drillKey(drill.name));
      const results = (await pipeline.exec()) ?? [];
      return new Map(
        drills.map((drill, index) => {
          const [error, hash] = results[2 * index + 1] ?? [null, {}];
          if (error) throw error;
          return [drill.name, parseRecord(hash as Record<string, string>)];
        }),
      );
    },
  };
}

/** The drill metrics' view of `drills` (src/metrics/drill-metrics.ts), read from `state` at scrape time. */
export function drillMetricsSource(drills: readonly Drill[], state: DrillState, now = Date.now): DrillMetricsSource {
  return {
    drills: drills.map((drill) => ({ drill: drill.name, cluster: drill.cluster, kind: drill.kind, periodSeconds: drill.periodMs / 1000 })),
    read: () => state.read(drills, now()),
  };
}

function parseOccurrence(value: string): OccurrenceState | undefined {
  const space = value.indexOf(' ');
  const state = space < 0 ? value : value.slice(0, space);
  const detail = space < 0 ? '' : value.slice(space + 1);
  if (state === 'started') return { state, runId: detail };
  if (state === 'blocked' || state === 'missed') return { state, reason: detail };
  return undefined;
}

function parseRecord(hash: Readonly<Record<string, string>>): DrillRecord {
  const number = (field: string): number | undefined => {
    const value = hash[field];
    const parsed = value === undefined || value === '' ? Number.NaN : Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  };
  const record: { -readonly [K in keyof DrillRecord]: DrillRecord[K] } = {
    runs: Object.fromEntries(drillOutcomes.map((outcome) => [outcome, number(`runs:${outcome}`) ?? 0])) as Record<DrillOutcome, number>,
  };
  const firstScheduledAt = number('firstScheduledAt');
  const lastRunAt = number('lastRunAt');
  const lastSuccessAt = number('lastSuccessAt');
  const lastRtoMs = number('lastRtoMs');
  const lastOutcome = drillOutcomes.find((outcome) => outcome === hash.lastOutcome);
  if (firstScheduledAt !== undefined) record.firstScheduledAt = firstScheduledAt;
  if (lastRunAt !== undefined) record.lastRunAt = lastRunAt;
  if (lastSuccessAt !== undefined) record.lastSuccessAt = lastSuccessAt;
  if (lastRtoMs !== undefined) record.lastRtoMs = lastRtoMs;
  if (lastOutcome !== undefined) record.lastOutcome = lastOutcome;
  if (hash.lastReason !== undefined && hash.lastReason !== '') record.lastReason = hash.lastReason;
  return record;
}
