import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** One run job, already serialised: what BullMQ would store for `queue.add(name, data, opts)`. */
export interface InsertJob {
  jobId: string;
  name: string;
  /** JSON of the job data. */
  data: string;
  /** JSON of the job options as BullMQ stores them (including `jobId`, and `delay` when there is one). */
  opts: string;
  delayMs: number;
  /** Remember this job as the pending failback under this key (set whether the job is new or not). */
  pending?: { key: string; ttlMs: number };
}

/** A firing of a playbook with `resolved:`: its newest episode is noted and its pending failback looked up. */
export interface InsertFiring {
  firingKey: string;
  startsAtMs: number;
  ttlMs: number;
  pendingKey: string;
}

/** What one insert did. */
export interface InsertResult {
  /** The body key already existed: an identical body was accepted meanwhile, so nothing was written. */
  redelivered: boolean;
  /** Per job: true when it was added, false when Redis already held a job with its id. */
  added: boolean[];
  /** Per firing: the job id of its pending failback, if one is remembered. */
  pending: (string | undefined)[];
}

/** Adds the runs of one webhook in a single atomic script call. */
export interface RunInserter {
  insert(input: { jobs: readonly InsertJob[]; firings: readonly InsertFiring[]; body?: { key: string; ttlMs: number } }): Promise<InsertResult>;
  /** True when `key` (the redelivery marker of a body) exists. */
  has(key: string): Promise<boolean>;
}

/*
 * The body of BullMQ's addStandardJob / addDelayedJob (storeJob, addJobInTargetList, addDelayedJob and the helpers
 * they include), looped over every job of a webhook. Same keys, same hash fields, same list, zset, marker and
 * events, so BullMQ's workers, getters and Bull Board see ordinary jobs; test/queue/run-inserter.test.ts compares
 * the result with BullMQ's own add field by field, so an upgrade that changes the layout fails the suite. Not
 * supported because runs never use them: priorities, parents, deduplication, LIFO.
 *
 * KEYS: 1 wait, 2 meta, 3 id, 4 delayed, 5 active, 6 events, 7 marker, 8 the body key ('' for none)
 * ARGV: 1 job key prefix, 2 timestamp, 3 body key TTL (ms), 4 firing count, 5 job count,
 *       then 4 per firing (firing key, startsAt ms, TTL ms, pending key),
 *       then 7 per job (id, name, data, opts, delay ms, pending key or '', pending TTL ms)
 */
const addRunsScript = `
local rcall = redis.call
local bodyKey = KEYS[8]
if bodyKey ~= '' and rcall('EXISTS', bodyKey) == 1 then
  return {1, {}, {}}
end
local prefix = ARGV[1]
local timestamp = tonumber(ARGV[2])
local firingCount = tonumber(ARGV[4])
local jobCount = tonumber(ARGV[5])

-- A firing moves the newest episode forward only (a late redelivery of an older firing must not move it back).
local pending = {}
for i = 1, firingCount do
  local at = 6 + (i - 1) * 4
  local startsAt = ARGV[at + 1]
  local current = tonumber(rcall('GET', ARGV[at]) or '0')
  if tonumber(startsAt) > current then
    rcall('SET', ARGV[at], startsAt, 'PX', ARGV[at + 2])
  end
  pending[i] = rcall('GET', ARGV[at + 3]) or ''
end

local maxEvents = rcall('HGET', KEYS[2], 'opts.maxLenEvents')
if not maxEvents then
  maxEvents = 10000
  rcall('HSET', KEYS[2], 'opts.maxLenEvents', maxEvents)
end
local attributes = rcall('HMGET', KEYS[2], 'paused', 'concurrency')
local pausedOrMaxed = false
if attributes[1] then
  pausedOrMaxed = true
elseif attributes[2] then
  pausedOrMaxed = rcall('LLEN', KEYS[5]) >= tonumber(attributes[2])
end

local added = {}
local jobsAt = 6 + firingCount * 4
for j = 1, jobCount do
  local at = jobsAt + (j - 1) * 7
  local jobId = ARGV[at]
  local name = ARGV[at + 1]
  local delay = tonumber(ARGV[at + 4])
  local jobKey = prefix .. jobId
  rcall('INCR', KEYS[3])
  if rcall('EXISTS', jobKey) == 1 then
    -- handleDuplicatedJob, for a job without a parent.
    rcall('XADD', KEYS[6], 'MAXLEN', '~', maxEvents, '*', 'event', 'duplicated', 'jobId', jobId)
    added[j] = 0
  else
    rcall('HMSET', jobKey, 'name', name, 'data', ARGV[at + 2], 'opts', ARGV[at + 3], 'timestamp', timestamp, 'delay', delay, 'priority', 0)
    rcall('XADD', KEYS[6], '*', 'event', 'added', 'jobId', jobId, 'name', name)
    if delay > 0 then
      -- getDelayedScore: the job id's order within one millisecond is kept in the low 12 bits.
      local delayedTimestamp = timestamp + delay
      local minScore = delayedTimestamp * 0x1000
      local maxScore = (delayedTimestamp + 1) * 0x1000 - 1
      local result = rcall('ZREVRANGEBYSCORE', KEYS[4], maxScore, minScore, 'WITHSCORES', 'LIMIT', 0, 1)
      local score = minScore
      local currentMaxScore = tonumber(result[2])
      if currentMaxScore ~= nil then
        if currentMaxScore >= maxScore then score = maxScore else score = currentMaxScore + 1 end
      end
      rcall('ZADD', KEYS[4], score, jobId)
      rcall('XADD', KEYS[6], 'MAXLEN', '~', maxEvents, '*', 'event', 'delayed', 'jobId', jobId, 'delay', delayedTimestamp)
      local first = rcall('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
      local nextTimestamp = tonumber(first[2])
      if nextTimestamp ~= nil then
        rcall('ZADD', KEYS[7], nextTimestamp / 0x1000, '1')
      end
    else
      rcall('LPUSH', KEYS[1], jobId)
      if not pausedOrMaxed then
        rcall('ZADD', KEYS[7], 0, '0')
      end
      rcall('XADD', KEYS[6], 'MAXLEN', '~', maxEvents, '*', 'event', 'waiting', 'jobId', jobId)
    end
    added[j] = 1
  end
  if ARGV[at + 5] ~= '' then
    rcall('SET', ARGV[at + 5], jobId, 'PX', ARGV[at + 6])
  end
end
if bodyKey ~= '' then
  rcall('SET', bodyKey, '1', 'PX', ARGV[3])
end
return {0, pending, added}
`;

const commandName = 'remediatorAddRuns';

type AddRunsCommand = (...args: (string | number)[]) => Promise<[number, string[], number[]]>;

/**
 * Creates the inserter on `redis` (the producer connection). BullMQ's addBulk costs, per job, a Job object, a
 * msgpack of its options and an EVALSHA of nine keys; a webhook of twelve alerts is a dozen of those. One script
 * call per webhook with the JSON already built costs a fraction, checks which ids exist inside Redis instead of in
 * a round trip before, and writes the failback bookkeeping and the redelivery marker in the same atomic step.
 */
export function createRunInserter(redis: Redis, queue: Queue): RunInserter {
  redis.defineCommand(commandName, { numberOfKeys: 8, lua: addRunsScript });
  const command = (redis as unknown as Record<typeof commandName, AddRunsCommand>)[commandName].bind(redis);
  const keys = ['wait', 'meta', 'id', 'delayed', 'active', 'events', 'marker'].map((type) => queue.toKey(type));
  const jobPrefix = queue.toKey('');

  return {
    async insert({ jobs, firings, body }) {
      const args: (string | number)[] = [...keys, body?.key ?? '', jobPrefix, Date.now(), body?.ttlMs ?? 0, firings.length, jobs.length];
      for (const firing of firings) args.push(firing.firingKey, firing.startsAtMs, firing.ttlMs, firing.pendingKey);
      for (const job of jobs) args.push(job.jobId, job.name, job.data, job.opts, job.delayMs, job.pending?.key ?? '', job.pending?.ttlMs ?? 0);
      const [redelivered, pending, added] = await command(...args);
      return {
        redelivered: redelivered === 1,
        added: jobs.map((_job, at) => added[at] === 1),
        pending: firings.map((_firing, at) => (pending[at] ? pending[at] : undefined)),
      };
    },
    async has(key) {
      return (await redis.exists(key)) === 1;
    },
  };
}
