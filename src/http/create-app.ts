import type { RequestListener } from 'node:http';
import express, { Router, type Express } from 'express';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { AlertIntake } from '../alerts/alert-intake.js';
import type { RemediatorMetrics } from '../metrics/create-metrics.js';
import type { RunData } from '../runs/run-data.js';
import { adminAuth } from './auth.js';
import { createErrorHandler, sendError } from './http-errors.js';
import { createQueueBoard } from './queue-board.js';
import { createRunsRouter } from './runs-route.js';
import { createApprovalRouter, queueUiApproval } from './approval-route.js';
import { createControlRouter } from './control-route.js';
import type { RunApprovals } from '../queue/run-approvals.js';
import { createWebhookHandler, type WebhookHandler } from './webhook-handler.js';

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
  /** The kill switch's state for /readyz; undefined when it cannot be read. */
  paused: () => Promise<boolean | undefined>;
  webhookToken: string | undefined;
  webhookUser: string | undefined;
  adminUser: string;
  adminPassword: string | undefined;
  bodyLimit: number;
  /** Alerts in one webhook body; more is a 413. */
  maxAlerts: number;
}

/** The webhook's path as Alertmanager is configured with it; the fast path serves exactly this spelling. */
const webhookPath = '/webhooks/alertmanager';

/**
 * The HTTP server's request listener: POST /webhooks/alertmanager goes straight to the webhook handler, without
 * entering express (whose routing and request setup would cost about a third of the webhook's CPU budget);
 * everything else goes to the express app.
 */
export function createHttpListener(deps: AppDeps): RequestListener {
  const webhook = createWebhookHandler({ intake: deps.intake, metrics: deps.metrics, logger: deps.logger, token: deps.webhookToken, user: deps.webhookUser, bodyLimit: deps.bodyLimit, maxAlerts: deps.maxAlerts });
  const app = createApp(deps, webhook);
  return (req, res) => {
    if (isWebhookRequest(req.method, req.url)) webhook(req, res);
    else app(req, res);
  };
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
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', ...(paused === undefined ? {} : { paused }), checks });
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

  const admin = adminAuth({ user: deps.adminUser, password: deps.adminPassword });
  app.use('/api', admin);
  const control = { queue: deps.queue, approvals: deps.approvals, logger: deps.logger, adminUser: deps.adminUser };
  app.use(createRunsRouter({ queue: deps.queue }));
  app.use(createApprovalRouter(control));
  app.use(createControlRouter(control));
  // Bull Board is built only when admin is enabled: no UI code is reachable without credentials.
  if (deps.adminPassword !== undefined) app.use('/queues', admin, queueUiApproval(control), createQueueBoard({ queues: [deps.queue], basePath: '/queues' }));
  else app.use('/queues', admin);

  app.use((req, res) => {
    sendError(res, 404, 'NOT_FOUND', `no route for ${req.method} ${req.path}`);
  });
  app.use(createErrorHandler(deps.logger));
  return app;
}
