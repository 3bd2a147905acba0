import type { RequestListener } from 'node:http';
import express, { Router, type Express } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AlertIntake } from '../alerts/alert-intake.js';
import type { RemediatorMetrics } from '../metrics/create-metrics.js';
import type { RunData } from '../core/run-data.js';
import { adminAuth, adminDisabled, type AdminAuthFailure } from './auth.js';
import { createAdminWriteGuard, type WriteRefusal } from './admin-write-guard.js';
import { createLoginThrottle, defaultLoginThrottle, type FailureRecord, type LoginThrottle } from './login-throttle.js';
import { adminSecurityHeaders } from './security-headers.js';
import { createRateLimited } from '../logging/rate-limited.js';
import { createErrorHandler, sendError } from './http-errors.js';
import { createQueueBoard } from './queue-board.js';
import { createRunsRouter } from './runs-route.js';
import { createApprovalRouter, queueUiApproval } from './approval-route.js';
import { createApprovalLinkRouter, type ApprovalLinkRouteDeps } from './approval-link-route.js';
import { createControlRouter } from './control-route.js';
import { createOperatorRouter } from './operator-route.js';
import { createSwitchoverRouter } from './switchover-route.js';
import { queueUiAudit } from './queue-ui-audit.js';
import type { AuditLog } from '../state/audit-log.js';
import type { RunBudgets } from '../state/run-budgets.js';
import type { TargetHolds } from '../state/target-holds.js';
import type { Playbook } from '../core/playbook.js';
import type { RunApprovals } from '../state/run-approvals.js';
import type { InventoryCluster } from '../inventory/inventory.js';
import type { UserRecord } from '../users/users-file.js';
import { createUserDirectory } from '../users/user-directory.js';
import { createTrustedProxy, type TrustedProxySettings } from './trusted-proxy.js';
import { authorize, mayActInQueueUi } from './permissions.js';
import { identityOf } from './identity.js';
import { createWebhookHandler, type WebhookHandler } from './webhook-handler.js';
import { requireClientCertificate } from './client-certificate.js';

/** A readiness check: name → ok, with a reason when not. */
export type ReadinessCheck = () => Promise<Record<string, { ok: boolean; reason?: string }>>;

/** Everything the HTTP API needs; built by the composition root. */
export interface AppDeps {
  intake: AlertIntake;
  queue: Queue<RunData>;
  approvals: RunApprovals;
  metrics: RemediatorMetrics;
  logger: Logger;
  readiness: ReadinessCheck;
  /** BullMQ's own metrics text (bullmq_job_count, bullmq_job_completed_total, …), appended to /metrics. */
  queueMetrics?: () => Promise<string>;
  /** Holds, budget resets and the audit of operator actions (GET/POST/DELETE /api/holds, /api/budgets, /api/audit). */
  operator?: { holds: TargetHolds; budgets: Pick<RunBudgets, 'reset'>; audit: AuditLog; playbooks: readonly Playbook[] };
  /**
   * Planned switchover (POST/DELETE /api/clusters/:cluster/switchover): the inventory's clusters, and an intake and
   * playbooks that include the built-in switchover playbooks.
   */
  switchover?: {
    clusters: ReadonlyMap<string, InventoryCluster>;
    intake: AlertIntake;
    playbooks: readonly Playbook[];
    prefix: string;
  };
  /** The reconcile loop's state for /readyz (src/reconcile/reconcile-loop.ts): reported, never a reason to be not ready. */
  reconcileStatus?: () => object;
  /** The kill switch's state for /readyz; undefined when it cannot be read. */
  paused: () => Promise<boolean | undefined>;
  webhookToken: string | undefined;
  webhookUser: string | undefined;
  /** The simple admin (ADMIN_USER / ADMIN_PASSWORD): role admin. */
  adminUser: string;
  adminPassword: string | undefined;
  /** The users of USERS_FILE, each with a role. */
  users?: readonly UserRecord[];
  /** A reverse proxy naming the user in a header (TRUSTED_PROXY_*). */
  trustedProxy?: TrustedProxySettings;
  /** Origins besides the server's own (from Host) whose pages may make admin changes: a reverse proxy's. */
  adminAllowedOrigins: readonly string[];
  bodyLimit: number;
  /** Alerts in one webhook body; more is a 413. */
  maxAlerts: number;
  /** For the runs list: reads job fields without loading whole jobs. */
  redis: Redis;
  /** The backoff of failed admin logins; default: defaultLoginThrottle on `now`. */
  loginThrottle?: LoginThrottle;
  /** The clock of the default login backoff and of its log line. */
  now?: () => number;
  /** Signed approval links (GET/POST /approve/:token, outside /api: the token is the credential); absent: not served. */
  approvalLinks?: Pick<ApprovalLinkRouteDeps, 'tokens' | 'claims' | 'audit'>;
  /** The webhook refuses requests without a client certificate the server verified (TLS_CLIENT_CA_FILE). */
  webhookClientCertificates?: boolean;
}

/** The webhook's path as Alertmanager is configured with it; the fast path serves exactly this spelling. */
const webhookPath = '/webhooks/alertmanager';

/**
 * The HTTP server's request listener: POST /webhooks/alertmanager goes straight to the webhook handler, without
 * entering express (whose routing and request setup would cost about a third of the webhook's CPU budget);
 * everything else goes to the express app.
 */
export function createHttpListener(deps: AppDeps): RequestListener {
  const handler = createWebhookHandler({
    intake: deps.intake,
    metrics: deps.metrics,
    logger: deps.logger,
    token: deps.webhookToken,
    user: deps.webhookUser,
    bodyLimit: deps.bodyLimit,
    maxAlerts: deps.maxAlerts,
  });
  const webhook = deps.webhookClientCertificates ? webhookRequiringCertificate(handler, deps) : handler;
  const app = createApp(deps, webhook);
  return (req, res) => {
    if (isWebhookRequest(req.method, req.url)) webhook(req, res);
    else app(req, res);
  };
}

/** The webhook behind a verified client certificate; a refusal counts as unauthorized and is logged (rate-limited). */
function webhookRequiringCertificate(handler: WebhookHandler, deps: Pick<AppDeps, 'metrics' | 'logger' | 'now'>): WebhookHandler {
  const logLine = createRateLimited(10_000, deps.now);
  return requireClientCertificate(handler, (refusal) => {
    deps.metrics.webhookRequests.inc({ outcome: 'unauthorized' });
    logLine((suppressed) => {
      deps.logger.warn({ code: refusal.code, reason: refusal.message, suppressed }, 'webhook refused: client certificate');
    });
  });
}

/** True for what the fast path serves: POST on the webhook's exact path, with or without a query string. */
export function isWebhookRequest(method: string | undefined, url: string | undefined): boolean {
  if (method !== 'POST' || url === undefined) return false;
  return url === webhookPath || url.startsWith(`${webhookPath}?`);
}

/**
 * Creates the express app: health, metrics, runs API and queue UI, and the webhook for the spellings of its path
 * that only express's matching accepts (see below).
 */
function createApp(deps: AppDeps, webhook: WebhookHandler): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [checks, paused] = await Promise.all([deps.readiness(), deps.paused()]);
    const ready = Object.values(checks).every((check) => check.ok);
    // The loop is reported, not checked: Alertmanager being unreachable must not take the webhook out of service.
    const reconcile = deps.reconcileStatus?.();
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not ready',
      ...(paused === undefined ? {} : { paused }),
      checks,
      ...(reconcile === undefined ? {} : { reconcile }),
    });
  });
  app.get('/metrics', async (_req, res) => {
    // BullMQ's metrics need Redis: while it is down, /metrics still answers with the rest.
    const queueText = await deps.queueMetrics?.().catch(() => undefined);
    const body = `${await deps.metrics.registry.metrics()}${queueText === undefined ? '' : `${queueText}\n`}`;
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(body);
  });

  // Express matches paths case-insensitively and with a trailing slash: the webhook has always been reachable as
  // /Webhooks/AlertManager/ too, so those spellings keep reaching it here. In a router of its own, as before, so
  // that OPTIONS on its path is still answered with Allow: POST rather than by the 404 below.
  const webhookRouter = Router();
  webhookRouter.post(webhookPath, (req, res) => {
    webhook(req, res);
  });
  app.use(webhookRouter);

  app.use(['/api', '/queues'], adminSecurityHeaders);
  const users = createUserDirectory({
    ...(deps.adminPassword === undefined ? {} : { admin: { name: deps.adminUser, password: deps.adminPassword } }),
    ...(deps.users ? { users: deps.users } : {}),
  });
  // Closed unless some credential source is configured: a password, a users file or a trusted proxy.
  const adminEnabled = users.configured || deps.trustedProxy !== undefined;
  if (!adminEnabled) {
    deps.logger.info('none of ADMIN_PASSWORD, USERS_FILE and TRUSTED_PROXY_USER_HEADER is set: /queues and /api are disabled');
    app.use(['/api', '/queues'], adminDisabled);
  } else {
    const admin = adminAuth({
      users,
      ...(deps.trustedProxy ? { proxy: createTrustedProxy(deps.trustedProxy) } : {}),
      throttle: deps.loginThrottle ?? createLoginThrottle({ ...defaultLoginThrottle, now: deps.now ?? Date.now }),
      failed: loginFailureReporter(deps),
      untrustedProxyHeader: untrustedProxyReporter(deps),
    });
    const refused = (reason: WriteRefusal) => {
      deps.metrics.adminWritesRefused.inc({ reason });
    };
    const allowedOrigins = new Set(deps.adminAllowedOrigins);
    // Before auth: a forged request is refused without a basic-auth challenge (a login prompt the forging page
    // would otherwise raise in a browser without the credentials).
    app.use(
      '/api',
      createAdminWriteGuard({ allowedOrigins, jsonMethods: new Set(['POST', 'PUT', 'PATCH', 'DELETE']), refused }),
      admin,
      authorize,
    );
    // The board's own UI sends JSON with its POSTs and PATCHes, and its PUTs without a body (retry, promote,
    // clean, pause): a PUT cannot come from a form, and from a script on another site only after a CORS
    // preflight that nothing here answers.
    app.use('/queues', createAdminWriteGuard({ allowedOrigins, jsonMethods: new Set(['POST', 'PATCH']), refused }), admin, authorize);
  }
  const control = {
    queue: deps.queue,
    approvals: deps.approvals,
    logger: deps.logger,
    ...(deps.operator ? { audit: deps.operator.audit } : {}),
  };
  app.use(createRunsRouter({ queue: deps.queue, redis: deps.redis }));
  app.use(createApprovalRouter(control));
  app.use(createControlRouter(control));
  if (deps.operator) app.use(createOperatorRouter({ ...deps.operator, intake: deps.intake, logger: deps.logger }));
  if (deps.operator && deps.switchover)
    app.use(
      createSwitchoverRouter({
        ...deps.switchover,
        queue: deps.queue,
        redis: deps.redis,
        audit: deps.operator.audit,
        logger: deps.logger,
        ...(deps.now ? { now: deps.now } : {}),
      }),
    );
  // Bull Board is built only when admin is enabled: no UI code is reachable without credentials. Two boards: the
  // read-only one (no Retry, Promote, Clean, Pause) for the roles that may not act, whatever authorize refuses anyway.
  if (adminEnabled) {
    const board = createQueueBoard({ queues: [deps.queue], basePath: '/queues' });
    const readOnlyBoard = createQueueBoard({ queues: [deps.queue], basePath: '/queues', readOnly: true });
    app.use(
      '/queues',
      ...(deps.operator ? [queueUiAudit({ audit: deps.operator.audit, logger: deps.logger })] : []),
      queueUiApproval(control),
      (req, res, next) => {
        (mayActInQueueUi(identityOf(res).role) ? board : readOnlyBoard)(req, res, next);
      },
    );
  }

  if (deps.approvalLinks)
    app.use(
      createApprovalLinkRouter({
        ...deps.approvalLinks,
        queue: deps.queue,
        approvals: deps.approvals,
        logger: deps.logger,
        allowedOrigins: new Set(deps.adminAllowedOrigins),
        counted: (method, outcome) => {
          deps.metrics.approvalLinkRequests.inc({ method, outcome });
        },
        ...(deps.now ? { now: deps.now } : {}),
      }),
    );

  app.use((req, res) => {
    sendError(res, 404, 'NOT_FOUND', `no route for ${req.method} ${req.path}`);
  });
  app.use(createErrorHandler(deps.logger));
  return app;
}

/** Counts failed admin logins and logs them, at most one line per 10 s (a password guesser makes thousands). */
function loginFailureReporter(
  deps: Pick<AppDeps, 'metrics' | 'logger' | 'now'>,
): (failure: { reason: AdminAuthFailure; client: string } & Partial<FailureRecord>) => void {
  const logLine = createRateLimited(10_000, deps.now);
  return (failure) => {
    deps.metrics.adminAuthFailures.inc({ reason: failure.reason });
    logLine((suppressed) => {
      deps.logger.warn(
        { client: failure.client, reason: failure.reason, failures: failure.failures, blockedMs: failure.blockedMs, suppressed },
        'admin login failed',
      );
    });
  };
}

/** Logs a proxy's user header sent by a peer that is not a trusted proxy (ignored), at most one line per 10 s. */
function untrustedProxyReporter(deps: Pick<AppDeps, 'logger' | 'now'>): (peer: string) => void {
  const logLine = createRateLimited(10_000, deps.now);
  return (peer) => {
    logLine((suppressed) => {
      deps.logger.warn({ client: peer, suppressed }, 'ignored a trusted-proxy user header from an address not in TRUSTED_PROXIES');
    });
  };
}
