import express, { Router, type ErrorRequestHandler } from 'express';
import { z } from 'zod';
import type { AlertIntake } from '../alerts/alert-intake.js';
import { webhookSchema } from '../alerts/webhook-schema.js';
import { errorCodes, isAppError } from '../errors/index.js';
import type { RemediatorMetrics, WebhookOutcome } from '../metrics/create-metrics.js';
import { webhookAuth } from './auth.js';
import { sendError } from './http-errors.js';

/** Creates POST /webhooks/alertmanager. Order: auth, content type, body (size, JSON), schema, enqueue. */
export function createWebhookRouter(deps: {
  intake: AlertIntake;
  metrics: RemediatorMetrics;
  token: string | undefined;
  user: string | undefined;
  bodyLimit: number;
}): Router {
  const router = Router();
  const count = (outcome: WebhookOutcome) => {
    deps.metrics.webhookRequests.inc({ outcome });
  };
  const json = express.json({ limit: deps.bodyLimit, type: () => true, strict: true });
  router.post(
    '/webhooks/alertmanager',
    webhookAuth({ token: deps.token, user: deps.user, onDenied: () => { count('unauthorized'); } }),
    (req, res, next) => {
      if (req.is('application/json')) {
        next();
        return;
      }
      count('unsupported_media_type');
      sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', `expected Content-Type: application/json, got ${req.headers['content-type'] ?? 'none'}`);
    },
    json,
    async (req, res) => {
      const parsed = webhookSchema.safeParse(req.body);
      if (!parsed.success) {
        count('invalid');
        const details = parsed.error.issues.slice(0, 50).map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
        sendError(res, 400, 'INVALID_WEBHOOK', `not an Alertmanager webhook:\n${z.prettifyError(parsed.error)}`.slice(0, 4000), details);
        return;
      }
      try {
        const result = await deps.intake.accept(parsed.data);
        count('accepted');
        res.status(202).json({ status: 'accepted', alerts: result.alerts, runs: result.runs, cancelledFailbacks: result.cancelledFailbacks });
      } catch (error) {
        if (isAppError(error, errorCodes.REDIS_UNAVAILABLE)) {
          count('unavailable');
          res.setHeader('Retry-After', '5');
          sendError(res, 503, error.code, `${error.message}; Alertmanager will retry`);
          return;
        }
        count('error');
        throw error;
      }
    },
  );
  // Body-parser failures of this route are counted here, then answered by the app's JSON error handler.
  router.use('/webhooks/alertmanager', ((error, _req, _res, next) => {
    count((error as { type?: unknown }).type === 'entity.too.large' ? 'too_large' : 'invalid');
    next(error);
  }) satisfies ErrorRequestHandler);
  return router;
}
