import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RunData } from '../core/run-data.js';
import { toRunSummary, type RunSummary } from './run-view.js';

/** The job states the runs list covers. */
export const listedStates = ['active', 'waiting', 'prioritized', 'delayed', 'failed', 'completed'] as const;

/** One of the listed states. */
export type ListedState = (typeof listedStates)[number];

/** Where a page starts: after the run queued at `at` (ms) with id `id`, in the list's order. */
export interface ListPosition {
  at: number;
  id: string;
}

/** A request for one page of runs. */
export interface RunListQuery {
  state?: ListedState | undefined;
  playbook?: string | undefined;
  limit: number;
  after?: ListPosition | undefined;
}

/** One page: its runs, and the cursor of the next page when there is one. */
export interface RunPage {
  runs: RunSummary[];
  next?: string;
}

const positionSchema = z.object({ at: z.number().int().nonnegative(), id: z.string().min(1) }).strict();

/** The opaque cursor of a position (base64url JSON, so a client has nothing to build). */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** The position a cursor stands for; undefined when it is not one this server made. */
export function decodeCursor(cursor: string): ListPosition | undefined {
  try {
    const parsed = positionSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A run's job id is `<playbook>-<24 hex>` (src/alerts/job-id.ts): it names the playbook without loading the job. */
const runIdShape = /^(.+)-[0-9a-f]{24}$/;

/** Jobs loaded at once while filling a page: bounds the memory of a page of large runs. */
const loadBatch = 50;

interface Candidate {
  id: string;
  state: ListedState;
  at: number;
}

/** Newest first (queue time), then by id, so that every run has one place and a cursor one meaning. */
const newestFirst = (a: ListPosition, b: ListPosition) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * Lists runs a page at a time, newest first by the time they were queued, over every state at once. A page is
 * cut at a position, not an offset: a run that changes state keeps its place, so walking the pages with `next`
 * returns every run once. The filter applies before the page is cut, so a page holds `limit` runs of the playbook
 * whatever the other playbooks' counts. Only ids and queue times are read for the whole queue; whole jobs are
 * loaded just for the page.
 */
export function createRunList(deps: { queue: Queue<RunData>; redis: Redis }): { page(query: RunListQuery): Promise<RunPage> } {
  async function candidates(query: RunListQuery): Promise<Candidate[]> {
    const stateOf = new Map<string, ListedState>();
    for (const state of query.state ? [query.state] : listedStates) {
      for (const id of await deps.queue.getRanges([state], 0, -1)) if (!stateOf.has(id)) stateOf.set(id, state);
    }
    // An id of another shape (a job added by hand in the queue UI) may still hold a run: its data will tell.
    const ids = [...stateOf.keys()].filter(
      (id) => query.playbook === undefined || (runIdShape.exec(id)?.[1] ?? query.playbook) === query.playbook,
    );
    const pipeline = deps.redis.pipeline();
    for (const id of ids) pipeline.hget(deps.queue.toKey(id), 'timestamp');
    const answers = (await pipeline.exec()) ?? [];
    const found: Candidate[] = [];
    ids.forEach((id, index) => {
      const [error, value] = answers[index] ?? [];
      if (error) throw error;
      const at = Number(value);
      // Gone since its id was read (removed, or cleaned by retention): not listed.
      if (typeof value === 'string' && Number.isFinite(at)) found.push({ id, state: stateOf.get(id) ?? 'waiting', at });
    });
    return found.sort(newestFirst).filter((candidate) => query.after === undefined || newestFirst(query.after, candidate) < 0);
  }

  return {
    async page(query) {
      const runs: RunSummary[] = [];
      const pending = await candidates(query);
      // One more than asked for: if it exists, there is a next page.
      const size = Math.min(loadBatch, query.limit + 1);
      for (let start = 0; start < pending.length && runs.length <= query.limit; start += size) {
        const batch = pending.slice(start, start + size);
        const jobs = await Promise.all(batch.map((candidate) => deps.queue.getJob(candidate.id) as Promise<Job<RunData> | undefined>));
        batch.forEach((candidate, index) => {
          const job = jobs[index];
          const summary = job && toRunSummary(job, candidate.state);
          if (summary && (query.playbook === undefined || summary.playbook === query.playbook) && runs.length <= query.limit)
            runs.push(summary);
        });
      }
      if (runs.length <= query.limit) return { runs };
      const last = runs[query.limit - 1];
      const page = runs.slice(0, query.limit);
      return last === undefined
        ? { runs: page }
        : { runs: page, next: encodeCursor({ at: Date.parse(last.timeline.queuedAt), id: last.id }) };
    },
  };
}
