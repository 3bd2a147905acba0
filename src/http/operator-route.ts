import express, { Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { durationSchema } from '../core/duration.js';
import type { AlertIntake } from '../alerts/alert-intake.js';
import { syntheticAlertPayload } from '../alerts/synthetic-alert.js';
import { matchesLabels } from '../core/label-matcher.js';
import type { Playbook } from '../core/playbook.js';
import type { AuditLog } from '../state/audit-log.js';
import type { RunBudgets } from '../state/run-budgets.js';
import type { TargetHolds } from '../state/target-holds.js';
import { sendError } from './http-errors.js';
import { identityOf } from './identity.js';

/** The longest hold the API sets: a forgotten hold must still end by itself. */
const maxHoldMs = 7 * 86_400_000;

const holdBody = z
  .object({
    target: z.string().min(1).max(512),
    ttl: durationSchema.refine((ms) => ms > 0 && ms <= maxHoldMs, 'between 1 ms and 7d'),
    reason: z.string().min(1).max(2000),
  })
  .strict();

const runBody = z
  .object({
    labels: z.record(z.string(), z.string()).refine((labels) => Object.keys(labels).length > 0, 'at least one label'),
    annotations: z.record(z.string(), z.string()).default({}),
  })
  .strict();

const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z
    .string()
    .regex(/^\d+-\d+$/, 'an audit entry id')
    .optional(),
});

/**
 * The operator's controls (mounted behind admin auth): maintenance holds, the acknowledgement that clears a
 * playbook's budget on a target, and the audit of every such action.
 */
export function createOperatorRouter(deps: {
  holds: TargetHolds;
  budgets: Pick<RunBudgets, 'reset'>;
  audit: AuditLog;
  /** For manual runs: the playbooks, and the intake every alert goes through. */
  intake?: AlertIntake;
  playbooks?: readonly Playbook[];
  logger: Logger;
}): Router {
  const router = Router();
  const body = express.json({ limit: '16kb' });

  router.get('/api/holds', async (_req, res) => {
    res.json({ holds: await deps.holds.list() });
  });
  router.post('/api/holds', body, async (req, res) => {
    const by = identityOf(res).name;
    const parsed = holdBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      sendError(res, 400, 'INVALID_BODY', z.prettifyError(parsed.error));
      return;
    }
    const { target, ttl, reason } = parsed.data;
    const hold = await deps.holds.hold(target, ttl, reason, by);
    await deps.audit.append({ user: by, action: 'hold', target, outcome: 'held', detail: { reason, until: hold.until } });
    deps.logger.warn({ target, by, reason, until: hold.until }, 'target held: its runs are skipped until the hold ends');
    res.status(201).json({ target, ...hold });
  });
  router.delete('/api/holds/:target', async (req, res) => {
    const by = identityOf(res).name;
    const target = req.params.target;
    const released = await deps.holds.release(target);
    await deps.audit.append({ user: by, action: 'unhold', target, outcome: released ? 'released' : 'not-held' });
    if (!released) {
      sendError(res, 404, 'HOLD_NOT_FOUND', `no hold on ${target}`);
      return;
    }
    deps.logger.warn({ target, by }, 'hold released');
    res.json({ target, released });
  });

  router.post('/api/budgets/:playbook/:target/reset', async (req, res) => {
    const by = identityOf(res).name;
    const playbook = req.params.playbook;
    const target = req.params.target;
    const { cleared } = await deps.budgets.reset(playbook, target);
    await deps.audit.append({
      user: by,
      action: 'budget-reset',
      target,
      outcome: cleared > 0 ? 'cleared' : 'nothing-to-clear',
      detail: { playbook },
    });
    deps.logger.warn({ playbook, target, by, cleared }, 'budget reset: cooldown and run count cleared');
    res.json({ playbook, target, cleared: cleared > 0 });
  });

  router.post('/api/playbooks/:name/run', body, async (req, res) => {
    const by = identityOf(res).name;
    const name = req.params.name;
    const playbook = deps.playbooks?.find((candidate) => candidate.name === name);
    if (!playbook || !deps.intake) {
      sendError(res, 404, 'PLAYBOOK_NOT_FOUND', `no playbook ${name}`);
      return;
    }
    const parsed = runBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      sendError(res, 400, 'INVALID_BODY', z.prettifyError(parsed.error));
      return;
    }
    const { labels, annotations } = parsed.data;
    if (playbook.on !== 'firing' || !matchesLabels(playbook.matchers, labels)) {
      sendError(
        res,
        400,
        'LABELS_DO_NOT_MATCH',
        playbook.on === 'firing'
          ? `the labels do not match playbook ${name}: ${playbook.match}`
          : `playbook ${name} runs on resolved alerts; a manual run is a firing alert`,
      );
      return;
    }
    // A synthetic alert through the same intake: the same matching, targets, value limits, budgets and gates.
    const result = await deps.intake.accept(syntheticAlertPayload({ receiver: `api:${by}`, labels, annotations, startsAt: new Date() }), {
      source: 'manual',
      manual: { playbook: name, by },
    });
    const runs = result.runs.map(({ jobId, playbook: runPlaybook }) => ({ jobId, playbook: runPlaybook }));
    await deps.audit.append({ user: by, action: 'run', target: name, outcome: 'enqueued', detail: { labels, runs } });
    deps.logger.warn({ playbook: name, by, runs }, 'manual run enqueued');
    res.status(202).json({ runs });
  });

  router.get('/api/audit', async (req, res) => {
    const query = auditQuery.safeParse(req.query);
    if (!query.success) {
      sendError(res, 400, 'INVALID_QUERY', z.prettifyError(query.error));
      return;
    }
    const entries = await deps.audit.list({
      limit: query.data.limit,
      ...(query.data.before === undefined ? {} : { before: query.data.before }),
    });
    const last = entries.at(-1);
    res.json({ entries, ...(entries.length === query.data.limit && last ? { next: last.id } : {}) });
  });
  return router;
}
