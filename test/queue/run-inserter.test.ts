import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRunInserter, type InsertJob } from '../../src/queue/run-inserter.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const options = (jobId: string, delay?: number) => ({
  jobId,
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600 },
  removeOnFail: { age: 3600 },
  ...(delay === undefined ? {} : { delay }),
});

const data = (n: number) => ({ playbook: 'p', target: `t-${n}`, alert: { labels: { instance: `i-${n}`, odd: 'quote " and \\ and ✓' } } });

const insertJob = (jobId: string, n: number, delay?: number, pending?: InsertJob['pending']): InsertJob => ({
  jobId,
  name: 'run',
  data: JSON.stringify(data(n)),
  opts: JSON.stringify(options(jobId, delay)),
  delayMs: delay ?? 0,
  ...(pending === undefined ? {} : { pending }),
});

/** A job's hash as stored, with opts parsed (BullMQ's Lua re-encodes them, so key order differs) and no timestamp. */
async function storedJob(redis: Redis, queue: Queue, jobId: string): Promise<Record<string, unknown>> {
  const hash = await redis.hgetall(queue.toKey(jobId));
  const { timestamp, opts, ...rest } = hash;
  assert.ok(timestamp !== undefined && Number(timestamp) > 0, `${jobId} has a timestamp`);
  return { ...rest, opts: JSON.parse(opts ?? 'null') as unknown };
}

/** The events of a queue's stream, without their ids and the delayed timestamps (they carry the add time). */
async function events(redis: Redis, queue: Queue): Promise<string[][]> {
  const entries = await redis.xrange(queue.toKey('events'), '-', '+');
  return entries.map(([, fields]) => fields.map((field, index) => (fields[index - 1] === 'delay' ? 'T' : field)));
}

describe('the run inserter stores exactly what BullMQ stores', () => {
  let redis: TestRedis;
  let client: Redis;
  let queueCount = 0;
  const queues: Queue[] = [];
  const newQueue = () => {
    queueCount += 1;
    const queue = new Queue(`q${queueCount}`, { connection: client });
    queues.push(queue);
    return queue;
  };
  before(async () => {
    redis = await startRedis();
    client = redis.client();
  });
  after(async () => {
    for (const queue of queues) await queue.close();
    await redis.stop();
  });

  test('a waiting job: the same hash, wait list, marker, id counter and events as queue.add', async () => {
    const bull = newQueue();
    const ours = newQueue();
    await bull.add('run', data(1), options('run-a'));
    const result = await createRunInserter(client, ours).insert({ jobs: [insertJob('run-a', 1)], firings: [] });
    assert.deepEqual(result, { redelivered: false, added: [true], pending: [] });
    assert.deepEqual(await storedJob(client, ours, 'run-a'), await storedJob(client, bull, 'run-a'));
    assert.deepEqual(await client.lrange(ours.toKey('wait'), 0, -1), await client.lrange(bull.toKey('wait'), 0, -1));
    assert.equal(await client.get(ours.toKey('id')), await client.get(bull.toKey('id')));
    assert.deepEqual(
      await client.zrange(ours.toKey('marker'), '0', '-1', 'WITHSCORES' as const),
      await client.zrange(bull.toKey('marker'), '0', '-1', 'WITHSCORES' as const),
    );
    assert.deepEqual(await client.hgetall(ours.toKey('meta')), await client.hgetall(bull.toKey('meta')));
    assert.deepEqual(await events(client, ours), await events(client, bull));
    const job = await ours.getJob('run-a');
    assert.deepEqual(job?.data, data(1));
    assert.equal(await job.getState(), 'waiting');
  });

  test('a delayed job: the same hash, delayed score and marker as queue.add with a delay', async () => {
    const bull = newQueue();
    const ours = newQueue();
    const before_ = Date.now();
    await bull.add('run', data(2), options('run-d', 60_000));
    await createRunInserter(client, ours).insert({ jobs: [insertJob('run-d', 2, 60_000)], firings: [] });
    const after_ = Date.now();
    assert.deepEqual(await storedJob(client, ours, 'run-d'), await storedJob(client, bull, 'run-d'));
    assert.deepEqual(await events(client, ours), await events(client, bull));
    const score = Number(await client.zscore(ours.toKey('delayed'), 'run-d'));
    assert.ok(score >= (before_ + 60_000) * 0x1000 && score < (after_ + 60_001) * 0x1000, `delayed score ${score}`);
    const [marker, markerScore] = await client.zrange(ours.toKey('marker'), '0', '-1', 'WITHSCORES' as const);
    assert.equal(marker, '1');
    assert.ok(Math.abs(Number(markerScore) - score / 0x1000) < 0.001, 'the marker holds the next delayed timestamp');
    assert.deepEqual(await client.zrange(bull.toKey('marker'), '0', '-1'), ['1']);
    assert.equal(await (await ours.getJob('run-d'))?.getState(), 'delayed');
  });

  test('on a paused queue the job waits without a marker, as BullMQ does', async () => {
    const bull = newQueue();
    const ours = newQueue();
    await bull.pause();
    await ours.pause();
    await bull.add('run', data(3), options('run-p'));
    await createRunInserter(client, ours).insert({ jobs: [insertJob('run-p', 3)], firings: [] });
    assert.deepEqual(await client.zrange(ours.toKey('marker'), '0', '-1'), await client.zrange(bull.toKey('marker'), '0', '-1'));
    assert.deepEqual(await client.lrange(ours.toKey('wait'), 0, -1), ['run-p']);
    assert.equal(await (await ours.getJob('run-p'))?.getState(), 'waiting');
  });

  test('a job id Redis already holds is left alone, reported as not added, and announced as BullMQ does', async () => {
    const bull = newQueue();
    await bull.add('run', data(4), options('run-x'));
    await bull.add('run', data(5), options('run-x'));
    const ours = newQueue();
    const inserter = createRunInserter(client, ours);
    await inserter.insert({ jobs: [insertJob('run-x', 4)], firings: [] });
    const first = await client.hgetall(ours.toKey('run-x'));
    const result = await inserter.insert({ jobs: [insertJob('run-x', 5), insertJob('run-y', 6)], firings: [] });
    assert.deepEqual(result.added, [false, true]);
    assert.deepEqual(await client.hgetall(ours.toKey('run-x')), first, 'the first job is untouched');
    assert.deepEqual((await client.lrange(ours.toKey('wait'), 0, -1)).sort(), ['run-x', 'run-y']);
    // BullMQ counts every add in the id counter and emits `duplicated` for an id it holds.
    await inserter.insert({ jobs: [insertJob('run-y', 6)], firings: [] });
    assert.deepEqual(
      (await events(client, ours)).filter((event) => event.includes('run-x')),
      (await events(client, bull)).filter((event) => event.includes('run-x')),
    );
    assert.equal(await client.get(ours.toKey('id')), '4');
    assert.equal(await client.get(bull.toKey('id')), '2');
  });

  test('a body key makes the whole insert happen once: a second insert under it writes nothing', async () => {
    const ours = newQueue();
    const inserter = createRunInserter(client, ours);
    const body = { key: `${ours.toKey('')}body-1`, ttlMs: 60_000 };
    assert.equal((await inserter.insert({ jobs: [insertJob('run-b1', 7)], firings: [], body })).redelivered, false);
    const second = await inserter.insert({ jobs: [insertJob('run-b2', 8)], firings: [], body });
    assert.deepEqual(second, { redelivered: true, added: [false], pending: [] });
    assert.equal(await client.exists(ours.toKey('run-b2')), 0);
    const ttl = await client.pttl(body.key);
    assert.ok(ttl > 50_000 && ttl <= 60_000, `body key TTL ${ttl}`);
    assert.deepEqual([await inserter.has(body.key), await inserter.has(`${body.key}-other`)], [true, false]);
  });

  test('firings move the newest episode forward only, and report the pending failback a failback job left', async () => {
    const ours = newQueue();
    const inserter = createRunInserter(client, ours);
    const firing = (startsAtMs: number) => ({ firingKey: 'f:key', startsAtMs, ttlMs: 60_000, pendingKey: 'f:pending' });
    assert.deepEqual((await inserter.insert({ jobs: [], firings: [firing(2000)] })).pending, [undefined]);
    await inserter.insert({ jobs: [insertJob('run-fb', 9, 30_000, { key: 'f:pending', ttlMs: 90_000 })], firings: [] });
    assert.deepEqual((await inserter.insert({ jobs: [], firings: [firing(1000)] })).pending, ['run-fb']);
    assert.equal(await client.get('f:key'), '2000', 'an older firing does not move it back');
    await inserter.insert({ jobs: [], firings: [firing(3000)] });
    assert.equal(await client.get('f:key'), '3000');
    const ttl = await client.pttl('f:pending');
    assert.ok(ttl > 80_000 && ttl <= 90_000, `pending TTL ${ttl}`);
  });

  test('a BullMQ worker runs inserted jobs, waiting and delayed, with their data and options intact', async () => {
    const ours = newQueue();
    const seen: Job[] = [];
    const worker = new Worker(
      ours.name,
      (job) => {
        seen.push(job);
        return Promise.resolve();
      },
      { connection: redis.client(), autorun: true },
    );
    try {
      await worker.waitUntilReady();
      await createRunInserter(client, ours).insert({ jobs: [insertJob('run-w1', 10), insertJob('run-w2', 11, 300)], firings: [] });
      await waitFor('both jobs processed', () => seen.length === 2, 10_000);
      const byId = new Map(seen.map((job) => [job.id, job]));
      assert.deepEqual(byId.get('run-w1')?.data, data(10));
      assert.deepEqual(byId.get('run-w2')?.data, data(11));
      assert.equal(byId.get('run-w1')?.opts.attempts, 3);
      assert.deepEqual(byId.get('run-w2')?.opts.backoff, { type: 'exponential', delay: 1000 });
      assert.equal(byId.get('run-w2')?.opts.delay, 300);
      await waitFor('both jobs completed', async () => (await ours.getJobCounts('completed')).completed === 2, 5000);
    } finally {
      await worker.close();
    }
  });
});
