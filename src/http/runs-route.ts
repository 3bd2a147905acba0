import { Router } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RunData } from '../core/run-data.js';
import { createRunList, decodeCursor, listedStates } from '../runs/run-list.js';
import { toRunView } from '../runs/run-view.js';
import { sendError } from './http-errors.js';

const listQuery = z
  .object({
    state: z.enum(listedStates).optional(),
    playbook: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().optional(),
  })
  .transform(({ cursor, ...rest }, ctx) => {
    if (cursor === undefined) return rest;
    const after = decodeCursor(cursor);
    if (after === undefined) {
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'not a cursor of this list: pass the `next` of a previous page as is' });
      return z.NEVER;
    }
    return { ...rest, after };
  });

/** GET /api/runs (a page of summaries) and GET /api/runs/:id (one run in full); mounted behind admin auth. */
export function createRunsRouter(deps: { queue: Queue<RunData>; redis: Redis }): Router {
  const router = Router();
  const list = createRunList(deps);
  router.get('/api/runs', async (req, res) => {
    const query = listQuery.safeParse(req.query);
    if (!query.success) {
      sendError(res, 400, 'INVALID_QUERY', z.prettifyError(query.error));
      return;
    }
    res.json(await list.page(query.data));
  });
  router.get('/api/runs/:id', async (req, res) => {
    const job = await deps.queue.getJob(req.params.id);
    if (!job) {
      sendError(res, 404, 'RUN_NOT_FOUND', `no run ${req.params.id}`);
      return;
    }
    const view = toRunView(job, await job.getState());
    if (!view) {
      sendError(res, 404, 'RUN_NOT_FOUND', `job ${req.params.id} is not a remediation run`);
      return;
    }
    res.json(view);
  });
  return router;
}
