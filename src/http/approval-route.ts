import express, { Router, type RequestHandler } from 'express';
import type { Job, Queue } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ApprovalDecision, RunApprovals } from '../state/run-approvals.js';
import type { AuditLog } from '../state/audit-log.js';
import { runDataSchema, type RunData } from '../core/run-data.js';
import { sendError } from './http-errors.js';
import { identityOf } from './identity.js';
import { allows, approvalRequirement, promoteRequirement, sendForbidden } from './permissions.js';

const decisionBody = z.object({ comment: z.string().max(2000).optional() }).strict();

/** What deciding on a run found. */
type DecideOutcome =
  | { status: 'decided'; decision: ApprovalDecision }
  | { status: 'not-found' }
  | { status: 'not-pending'; state: string }
  | { status: 'already-decided'; decision: ApprovalDecision };

/**
 * Records a decision on a run waiting for approval, then wakes the run (it waits in the delayed set until its
 * deadline) so the worker acts on the decision now.
 */
export async function decideRun(
  deps: { queue: Queue<RunData>; approvals: RunApprovals },
  id: string,
  decision: Omit<ApprovalDecision, 'at'>,
  options: { wake: boolean } = { wake: true },
): Promise<DecideOutcome> {
  const job = await deps.queue.getJob(id);
  if (!job) return { status: 'not-found' };
  const data = runDataSchema.safeParse(job.data);
  if (!data.success) return { status: 'not-found' };
  const state = data.data.approval?.state;
  if (state !== 'pending') return { status: 'not-pending', state: state ?? `not waiting for approval (${await job.getState()})` };
  const result = await deps.approvals.decide(id, { ...decision, at: new Date().toISOString() });
  if (!result.recorded) return { status: 'already-decided', decision: result.decision };
  if (options.wake) await wake(job);
  return { status: 'decided', decision: result.decision };
}

async function wake(job: Job): Promise<void> {
  // If it is no longer delayed (a worker has it right now) it reads the decision on its own.
  await job.promote().catch(() => undefined);
}

/** POST /api/runs/:id/approve and /reject (mounted behind admin auth). */
export function createApprovalRouter(deps: {
  queue: Queue<RunData>;
  approvals: RunApprovals;
  logger: Logger;
  audit?: Pick<AuditLog, 'append'>;
}): Router {
  const router = Router();
  const handle =
    (decision: 'approved' | 'rejected'): RequestHandler =>
    async (req, res) => {
      const by = identityOf(res).name;
      const body = decisionBody.safeParse(req.body ?? {});
      if (!body.success) {
        sendError(res, 400, 'INVALID_BODY', z.prettifyError(body.error));
        return;
      }
      const id = String(req.params.id);
      const outcome = await decideRun(deps, id, {
        decision,
        by,
        via: 'api',
        ...(body.data.comment === undefined ? {} : { comment: body.data.comment }),
      });
      await deps.audit?.append({
        user: by,
        action: decision === 'approved' ? 'approve' : 'reject',
        target: id,
        outcome: outcome.status,
        ...(body.data.comment === undefined ? {} : { detail: { comment: body.data.comment } }),
      });
      if (outcome.status === 'not-found') {
        sendError(res, 404, 'RUN_NOT_FOUND', `no run ${id}`);
        return;
      }
      if (outcome.status === 'not-pending') {
        sendError(res, 409, 'NOT_AWAITING_APPROVAL', `run ${id} is not waiting for approval: ${outcome.state}`);
        return;
      }
      if (outcome.status === 'already-decided') {
        sendError(
          res,
          409,
          'ALREADY_DECIDED',
          `run ${id} was already ${outcome.decision.decision} by ${outcome.decision.by} via ${outcome.decision.via}`,
          outcome.decision,
        );
        return;
      }
      deps.logger.warn({ jobId: id, decision: outcome.decision }, `run ${decision}`);
      res.json({ id, ...outcome.decision });
    };
  // A decision may come with no body at all (curl -XPOST); an empty or JSON body is accepted.
  const body = express.json({ limit: '16kb' });
  router.post('/api/runs/:id/approve', body, handle('approved'));
  router.post('/api/runs/:id/reject', body, handle('rejected'));
  return router;
}

/**
 * The queue UI has no approve button, but it has Promote: promoting a run that waits for approval approves it,
 * recorded as made by the caller through the queue UI. So Promote of such a run needs the approver's role, and of
 * any other job the operator's (permissions.ts): an operator's Promote of a run waiting for approval is a 403.
 */
export function queueUiApproval(deps: { queue: Queue<RunData>; approvals: RunApprovals; logger: Logger }): RequestHandler {
  return async (req, res, next) => {
    const match = req.method === 'PUT' ? /^\/api\/queues\/([^/]+)\/([^/]+)\/promote\/?$/i.exec(req.path) : null;
    if (match && decodeURIComponent(match[1] ?? '') === deps.queue.name) {
      const id = decodeURIComponent(match[2] ?? '');
      const identity = identityOf(res);
      try {
        const requirement = (await awaitsApproval(deps.queue, id)) ? approvalRequirement : promoteRequirement;
        if (!allows(requirement, identity.role)) {
          sendForbidden(res, requirement);
          return;
        }
        // Bull Board's own promote, next in line, wakes the run.
        const outcome = await decideRun(deps, id, { decision: 'approved', by: identity.name, via: 'queue-ui' }, { wake: false });
        if (outcome.status === 'decided') deps.logger.warn({ jobId: id, decision: outcome.decision }, 'run approved in the queue UI');
      } catch (error) {
        next(error);
        return;
      }
    }
    next();
  };
}

async function awaitsApproval(queue: Queue<RunData>, id: string): Promise<boolean> {
  const job = await queue.getJob(id);
  const data = job ? runDataSchema.safeParse(job.data) : undefined;
  return data?.success === true && data.data.approval?.state === 'pending';
}
