-- The body of BullMQ's addStandardJob / addDelayedJob (storeJob, addJobInTargetList, addDelayedJob and the helpers
-- they include), looped over every job of a webhook. Same keys, same hash fields, same list, zset, marker and
-- events, so BullMQ's workers, getters and Bull Board see ordinary jobs; test/queue/run-inserter.test.ts compares
-- the result with BullMQ's own add field by field, so an upgrade that changes the layout fails the suite. Not
-- supported because runs never use them: priorities, parents, deduplication, LIFO.
--
-- KEYS: 1 wait, 2 meta, 3 id, 4 delayed, 5 active, 6 events, 7 marker, 8 the body key ('' for none)
-- ARGV: 1 job key prefix, 2 timestamp, 3 body key TTL (ms), 4 firing count, 5 job count,
--       then 4 per firing (firing key, startsAt ms, TTL ms, pending key),
--       then 7 per job (id, name, data, opts, delay ms, pending key or '', pending TTL ms)
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
