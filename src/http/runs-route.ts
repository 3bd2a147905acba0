import { Router } from 'express';
import type { JobType, Queue } from 'bullmq';
import { z } from 'zod';
import type { RunData } from '../runs/run-data.js';
import { toRunView, type RunView } from '../runs/run-view.js';
import { sendError } from './http-errors.js';

const listedStates = ['active', 'waiting', 'prioritized', 'delayed', 'failed', 'completed'] as const;

const listQuery = z.object({
  state: z.enum(listedStates).optional(),
  playbook: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** GET /api/runs and GET /api/runs/:id (mounted behind admin auth). */
export function createRunsRouter(deps: { queue: Queue<RunData> }): Router {
  const router = Router();
  router.get('/api/runs', async (req, res) => {
    const query = listQuery.safeParse(req.query);
    if (!query.success) {
      sendError(res, 400, 'INVALID_QUERY', z.prettifyError(query.error));
      return;
    }
    const { state, playbook, limit } = query.data;
    const states: JobType[] = state ? [state] : [...listedStates];
    const runs: RunView[] = [];
    for (const current of states) {
      const jobs = await deps.queue.getJobs([current], 0, limit - 1);
      for (const job of jobs) {
        const view = toRunView(job, current);
        if (view && (playbook === undefined || view.playbook === playbook)) runs.push(view);
      }
    }
    runs.sort((a, b) => b.timeline.queuedAt.localeCompare(a.timeline.queuedAt));
    res.json({ runs: runs.slice(0, limit) });
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
