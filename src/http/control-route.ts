import { Router } from 'express';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { RunData } from '../core/run-data.js';
import type { AuditLog } from '../state/audit-log.js';
import { sendError } from './http-errors.js';
import { identityOf } from './identity.js';

/**
 * The kill switch (mounted behind admin auth). It is the queue's own pause flag: workers take no new run, and
 * a run between steps parks itself until resume, so pausing in the queue UI has exactly the same effect.
 * And the retry of a failed run, as the queue UI's Retry does: the run starts again from its checkpoint (the steps
 * that succeeded are not run again).
 */
export function createControlRouter(deps: { queue: Queue<RunData>; logger: Logger; audit?: Pick<AuditLog, 'append'> }): Router {
  const router = Router();
  const state = async () => ({ paused: await deps.queue.isPaused() });
  router.get('/api/pause', async (_req, res) => {
    res.json(await state());
  });
  router.post('/api/pause', async (_req, res) => {
    const by = identityOf(res).name;
    await deps.queue.pause();
    await deps.audit?.append({ user: by, action: 'pause', outcome: 'paused' });
    deps.logger.warn({ by }, 'remediation paused: no new step starts until resumed');
    res.json(await state());
  });
  router.post('/api/resume', async (_req, res) => {
    const by = identityOf(res).name;
    await deps.queue.resume();
    await deps.audit?.append({ user: by, action: 'resume', outcome: 'resumed' });
    deps.logger.warn({ by }, 'remediation resumed');
    res.json(await state());
  });
  router.post('/api/runs/:id/retry', async (req, res) => {
    const by = identityOf(res).name;
    const id = req.params.id;
    const job = await deps.queue.getJob(id);
    const state = job ? await job.getState() : undefined;
    if (!job || state !== 'failed') {
      await deps.audit?.append({ user: by, action: 'retry', target: id, outcome: state ?? 'not-found' });
      if (job) sendError(res, 409, 'NOT_FAILED', `run ${id} is ${state ?? 'unknown'}: only a failed run is retried`);
      else sendError(res, 404, 'RUN_NOT_FOUND', `no run ${id}`);
      return;
    }
    await job.retry('failed');
    await deps.audit?.append({ user: by, action: 'retry', target: id, outcome: 'retried' });
    deps.logger.warn({ jobId: id, by }, 'failed run retried');
    res.json({ id, retried: true });
  });
  return router;
}
