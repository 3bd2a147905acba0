import express, { Router, type Request, type Response } from 'express';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import typeIs from 'type-is';
import { z } from 'zod';
import type { ApprovalLinkClaim, ApprovalLinkTokens, TokenRefusal } from '../approvals/approval-link-token.js';
import { runDataSchema, type RunData } from '../core/run-data.js';
import type { ApprovalLinkClaims } from '../state/approval-link-claims.js';
import type { AuditLog } from '../state/audit-log.js';
import type { RunApprovals } from '../state/run-approvals.js';
import { crossSiteReason } from './admin-write-guard.js';
import { decideRun } from './approval-route.js';
import { sendLinkPage, type LinkPage } from './approval-link-page.js';
import { adminSecurityHeaders } from './security-headers.js';
import type { approvalLinkOutcomes } from '../metrics/create-metrics.js';

/** What an approval link page answered: one metric label value each. */
export type ApprovalLinkOutcome = (typeof approvalLinkOutcomes)[number];

/** What the approval-link pages need. */
export interface ApprovalLinkRouteDeps {
  tokens: Pick<ApprovalLinkTokens, 'verify'>;
  claims: ApprovalLinkClaims;
  queue: Queue<RunData>;
  approvals: RunApprovals;
  logger: Logger;
  audit?: Pick<AuditLog, 'append'>;
  /** Counts each answer (remediator_approval_link_requests_total). */
  counted?: (method: 'GET' | 'POST', outcome: ApprovalLinkOutcome) => void;
  /** Origins besides the server's own whose pages may post (ADMIN_ALLOWED_ORIGINS: a reverse proxy rewriting Host). */
  allowedOrigins: ReadonlySet<string>;
  now?: () => number;
}

const formBody = z.object({ comment: z.string().max(2000).optional() });

const refusalPages: Record<TokenRefusal, LinkPage> = {
  malformed: {
    status: 400,
    title: 'Not an approval link',
    message: 'This address is not a complete approval link: check that it was not cut.',
  },
  'bad-signature': {
    status: 403,
    title: 'Invalid approval link',
    message: 'This link was not issued by this remediator, or was changed after it was issued. Nothing was decided.',
  },
  expired: {
    status: 410,
    title: 'Approval link expired',
    message: 'This link has expired (it lasts as long as the run waits for approval). Nothing was decided.',
  },
};

const refusalOutcomes: Record<TokenRefusal, ApprovalLinkOutcome> = {
  malformed: 'malformed',
  'bad-signature': 'bad_signature',
  expired: 'expired',
};

const usedPage: LinkPage = {
  status: 409,
  title: 'Approval link already used',
  message: 'Each approval link can be used once, and this one has been. Nothing more was decided.',
};

/**
 * GET /approve/:token shows what the link would decide and a confirmation form; only the form's POST decides. The
 * token is the credential (no basic auth: these pages are outside /api): signed, expiring and single use. The POST
 * must come from this server's own page (Sec-Fetch-Site / Origin, as the admin write guard checks) as a form.
 */
export function createApprovalLinkRouter(deps: ApprovalLinkRouteDeps): Router {
  const now = deps.now ?? Date.now;
  const router = Router();
  router.use('/approve', adminSecurityHeaders, (_req, res, next) => {
    // The address holds the token, so it must never leave as a Referer; but with no-referrer the browser sends
    // `Origin: null` with the form's POST, which the same-origin check must refuse. same-origin sends both only here.
    res.setHeader('Referrer-Policy', 'same-origin');
    next();
  });

  const answer = (req: Request, res: Response, outcome: ApprovalLinkOutcome, page: LinkPage) => {
    deps.counted?.(req.method === 'POST' ? 'POST' : 'GET', outcome);
    sendLinkPage(res, page);
  };

  /** The token's claim, or undefined after answering with the refusal page. */
  const verified = (req: Request, res: Response): { claim: ApprovalLinkClaim; id: string } | undefined => {
    const result = deps.tokens.verify(String(req.params.token), now());
    if (!result.success) {
      answer(req, res, refusalOutcomes[result.refusal], refusalPages[result.refusal]);
      return undefined;
    }
    return result;
  };

  router.get('/approve/:token', async (req, res) => {
    const token = verified(req, res);
    if (!token) return;
    const { claim } = token;
    if (await deps.claims.isClaimed(token.id)) {
      answer(req, res, 'used', usedPage);
      return;
    }
    const run = await readRun(deps.queue, claim.runId);
    if (run === undefined) {
      answer(req, res, 'not_found', notFoundPage(claim.runId));
      return;
    }
    const facts = runFacts(claim, run);
    if (run.approval?.state !== 'pending') {
      answer(req, res, run.approval?.by === undefined ? 'not_pending' : 'already_decided', { ...notPendingPage(claim.runId, run), facts });
      return;
    }
    answer(req, res, 'shown', {
      status: 200,
      title: claim.decision === 'approved' ? 'Approve this run?' : 'Reject this run?',
      message: `Nothing is decided until you press the button below. The decision is recorded as made by ${claim.user}.`,
      facts,
      form: { decision: claim.decision },
    });
  });

  router.post('/approve/:token', (req, res, next) => {
    const crossSite = crossSiteReason(req.headers, deps.allowedOrigins);
    if (crossSite !== null) {
      answer(req, res, 'cross_site', {
        status: 403,
        title: 'Refused',
        message: `Decisions are accepted only from this server's own page (${crossSite}).`,
      });
      return;
    }
    // A form, and nothing else: a JSON or multipart body is not what the page sends.
    if (!typeIs.is(req.headers['content-type'] ?? '', ['application/x-www-form-urlencoded'])) {
      answer(req, res, 'not_form', {
        status: 415,
        title: 'Refused',
        message: 'A decision is made with the form of the confirmation page.',
      });
      return;
    }
    next();
  });
  router.post('/approve/:token', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const token = verified(req, res);
    if (!token) return;
    const body = formBody.safeParse(req.body ?? {});
    const comment = body.success && body.data.comment?.trim() ? body.data.comment.trim() : undefined;
    const { claim } = token;
    if (!(await deps.claims.claim(token.id, claim.expiresAtMs, now()))) {
      answer(req, res, 'used', usedPage);
      return;
    }
    const outcome = await decideRun(deps, claim.runId, {
      decision: claim.decision,
      by: claim.user,
      via: 'link',
      ...(comment === undefined ? {} : { comment }),
    });
    await deps.audit?.append({
      user: claim.user,
      action: claim.decision === 'approved' ? 'approve' : 'reject',
      target: claim.runId,
      outcome: outcome.status,
      detail: { via: 'link', ...(comment === undefined ? {} : { comment }) },
    });
    const run = await readRun(deps.queue, claim.runId);
    const facts = run ? runFacts(claim, run) : [];
    switch (outcome.status) {
      case 'not-found':
        answer(req, res, 'not_found', notFoundPage(claim.runId));
        return;
      case 'not-pending':
        answer(req, res, 'not_pending', {
          status: 409,
          title: 'Not waiting for approval',
          message: `Run ${claim.runId} is ${outcome.state}.`,
          facts,
        });
        return;
      case 'already-decided':
        answer(req, res, 'already_decided', { ...alreadyDecidedPage(outcome.decision), facts });
        return;
      case 'decided':
        deps.logger.warn({ jobId: claim.runId, decision: outcome.decision }, `run ${claim.decision} through an approval link`);
        answer(req, res, 'decided', {
          status: 200,
          title: claim.decision === 'approved' ? 'Approved' : 'Rejected',
          message:
            claim.decision === 'approved'
              ? `Run ${claim.runId} was approved by ${claim.user}: it proceeds now.`
              : `Run ${claim.runId} was rejected by ${claim.user}: it will not act.`,
          facts,
        });
    }
  });
  return router;
}

async function readRun(queue: Queue<RunData>, id: string): Promise<RunData | undefined> {
  const job = await queue.getJob(id);
  const data = job ? runDataSchema.safeParse(job.data) : undefined;
  return data?.success ? data.data : undefined;
}

function runFacts(claim: ApprovalLinkClaim, run: RunData): [string, string][] {
  const { labels, annotations } = run.alert;
  return [
    ['Decision', claim.decision === 'approved' ? 'approve' : 'reject'],
    ['Run', claim.runId],
    ['Playbook', run.playbook],
    ['Target', run.target ?? '(none)'],
    ['Alert', labels.alertname ?? run.alert.fingerprint],
    ...(annotations.summary === undefined ? [] : [['Summary', annotations.summary] as [string, string]]),
    ['Alert since', run.alert.startsAt],
    ['Link issued to', claim.user],
    ['Link expires', new Date(claim.expiresAtMs).toISOString()],
  ];
}

function notFoundPage(runId: string): LinkPage {
  return { status: 404, title: 'Run not found', message: `There is no run ${runId} (any more): nothing was decided.` };
}

function notPendingPage(runId: string, run: RunData): LinkPage {
  const approval = run.approval;
  if (approval?.by !== undefined) return alreadyDecidedPage({ decision: approval.state, by: approval.by, via: approval.via ?? 'api' });
  return {
    status: 409,
    title: 'Not waiting for approval',
    message: `Run ${runId} is not waiting for approval${approval ? ` (approval ${approval.state})` : ''}: nothing can be decided.`,
  };
}

function alreadyDecidedPage(decision: { decision: string; by: string; via: string }): LinkPage {
  return {
    status: 409,
    title: 'Already decided',
    message: `This run was already ${decision.decision} by ${decision.by} via ${decision.via}; the first decision stands.`,
  };
}
