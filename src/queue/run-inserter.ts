import { readFileSync } from 'node:fs';
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
  insert(input: {
    jobs: readonly InsertJob[];
    firings: readonly InsertFiring[];
    body?: { key: string; ttlMs: number };
  }): Promise<InsertResult>;
  /** True when `key` (the redelivery marker of a body) exists. */
  has(key: string): Promise<boolean>;
}

const commandName = 'remediatorAddRuns';

type AddRunsCommand = (...args: (string | number)[]) => Promise<[number, string[], number[]]>;

/**
 * Creates the inserter on `redis` (the producer connection). BullMQ's addBulk costs, per job, a Job object, a
 * msgpack of its options and an EVALSHA of nine keys; a webhook of twelve alerts is a dozen of those. One script
 * call per webhook with the JSON already built costs a fraction, checks which ids exist inside Redis instead of in
 * a round trip before, and writes the failback bookkeeping and the redelivery marker in the same atomic step.
 */
export function createRunInserter(redis: Redis, queue: Queue): RunInserter {
  // A file beside this module (npm run build copies it to dist/): BullMQ's own scripts live in .lua files too.
  const lua = readFileSync(new URL('./commands/add-runs.lua', import.meta.url), 'utf8');
  redis.defineCommand(commandName, { numberOfKeys: 8, lua });
  const command = (redis as unknown as Record<typeof commandName, AddRunsCommand>)[commandName].bind(redis);
  const keys = ['wait', 'meta', 'id', 'delayed', 'active', 'events', 'marker'].map((type) => queue.toKey(type));
  const jobPrefix = queue.toKey('');

  return {
    async insert({ jobs, firings, body }) {
      const args: (string | number)[] = [...keys, body?.key ?? '', jobPrefix, Date.now(), body?.ttlMs ?? 0, firings.length, jobs.length];
      for (const firing of firings) args.push(firing.firingKey, firing.startsAtMs, firing.ttlMs, firing.pendingKey);
      for (const job of jobs)
        args.push(job.jobId, job.name, job.data, job.opts, job.delayMs, job.pending?.key ?? '', job.pending?.ttlMs ?? 0);
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
