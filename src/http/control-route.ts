import { Router } from 'express';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { RunData } from '../core/run-data.js';
import type { AuditLog } from '../state/audit-log.js';

/**
 * The kill switch (mounted behind admin auth). It is the queue's own pause flag: workers take no new run, and
 * a run between steps parks itself until resume, so pausing in the queue UI has exactly the same effect.
 */
export function createControlRouter(deps: {
  queue: Queue<RunData>;
  logger: Logger;
  adminUser: string;
  audit?: Pick<AuditLog, 'append'>;
}): Router {
  const router = Router();
  const state = async () => ({ paused: await deps.queue.isPaused() });
  router.get('/api/pause', async (_req, res) => {
    res.json(await state());
  });
  router.post('/api/pause', async (_req, res) => {
    await deps.queue.pause();
    await deps.audit?.append({ user: deps.adminUser, action: 'pause', outcome: 'paused' });
    deps.logger.warn({ by: deps.adminUser }, 'remediation paused: no new step starts until resumed');
    res.json(await state());
  });
  router.post('/api/resume', async (_req, res) => {
    await deps.queue.resume();
    await deps.audit?.append({ user: deps.adminUser, action: 'resume', outcome: 'resumed' });
    deps.logger.warn({ by: deps.adminUser }, 'remediation resumed');
    res.json(await state());
  });
  return router;
}
