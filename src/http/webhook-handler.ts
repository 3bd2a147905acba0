import { hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import bodyParser from 'body-parser';
import type { Logger } from 'pino';
import typeIs from 'type-is';
import { z } from 'zod';
import type { AlertIntake } from '../alerts/alert-intake.js';
import { alertCount, parseWebhook } from '../alerts/webhook-schema.js';
import { errorCodes, errorMessage, isAppError } from '../core/errors/index.js';
import type { RemediatorMetrics, WebhookOutcome } from '../metrics/create-metrics.js';
import { createRateLimited } from '../logging/rate-limited.js';
import { checkWebhookCredentials, sendWebhookUnauthorized } from './auth.js';
import { isRedisUnavailable, sendError, sendErrorAnswer, sendJson } from './http-errors.js';
import { answerThenLinger } from './lingering-close.js';

/** A plain Node request handler, as http.createServer takes one. */
export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** What the webhook handler needs; built by the composition root. */
export interface WebhookHandlerDeps {
  intake: AlertIntake;
  metrics: RemediatorMetrics;
  logger: Logger;
  token: string | undefined;
  user: string | undefined;
  /** Bytes, counted after any Content-Encoding is undone. */
  bodyLimit: number;
  /** Alerts in one body; more is a 413 before any validation. */
  maxAlerts: number;
}

/** Issues a refused body's answer lists; validation stops once it has found them. */
const maxListedIssues = 50;

/** What body-parser leaves on the request it parsed. */
type ParsedRequest = IncomingMessage & { body?: unknown };

/** The body as parsed JSON with the digest of its bytes, or why it could not be read. */
type ReadBody = { ok: true; body: unknown; digest: string } | { ok: false; error: unknown };

/** sha256 of the body's bytes, base64url: how AlertIntake recognises a verbatim redelivery. */
function digestOf(bytes: Buffer): string {
  return hash('sha256', bytes, 'base64url');
}

/**
 * Creates the handler of POST /webhooks/alertmanager. It runs on the raw Node request, outside express, because
 * express's router and request/response setup cost about a third of the webhook's CPU budget.
 * Order: auth, content type, body (size, JSON), redelivery, schema, enqueue. Answers and metrics outcomes are the
 * ones the express route had: every failure is a JSON error, a Redis outage a 503 that Alertmanager retries.
 */
export function createWebhookHandler(deps: WebhookHandlerDeps): WebhookHandler {
  // An announced body a little over the limit (a real sender's) is read to its end so that the sender sees the 413;
  // past twice the limit or 2 s the connection is closed on it.
  const lingerLimits = { maxBytes: 2 * deps.bodyLimit, maxMs: 2000 };
  const count = (outcome: WebhookOutcome) => {
    deps.metrics.webhookRequests.inc({ outcome });
  };
  // A request without a body never reaches verify; its digest is that of no bytes.
  const emptyDigest = digestOf(Buffer.alloc(0));
  // verify sees the bytes JSON.parse will see (inflated if the body was compressed) and only those; keyed weakly by
  // request so that nothing outlives it.
  const digests = new WeakMap<IncomingMessage, string>();
  // Typed as it is called, on the raw Node objects: its types name connect's request class, but it reads only what
  // every IncomingMessage has.
  const json: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void = bodyParser.json({
    limit: deps.bodyLimit,
    type: () => true,
    strict: true,
    verify: (req, _res, bytes) => {
      digests.set(req, digestOf(bytes));
    },
  });

  const readBody = (req: IncomingMessage, res: ServerResponse) =>
    new Promise<ReadBody>((resolve) => {
      json(req, res, (error?: unknown) => {
        if (error !== undefined && error !== null) resolve({ ok: false, error });
        else resolve({ ok: true, body: (req as ParsedRequest).body, digest: digests.get(req) ?? emptyDigest });
      });
    });

  /** Redis could not answer: 503, so that Alertmanager retries; anything else is ours, a 500. */
  const intakeFailed = (res: ServerResponse, error: unknown) => {
    if (!isRedisUnavailable(error)) {
      count('error');
      sendErrorAnswer(res, error, deps.logger);
      return;
    }
    count('unavailable');
    if (res.headersSent) return;
    res.setHeader('Retry-After', '5');
    const message = isAppError(error) ? error.message : `Redis is unavailable: ${errorMessage(error)}`;
    sendError(res, 503, errorCodes.REDIS_UNAVAILABLE, `${message}; Alertmanager will retry`);
  };

  const redeliveredAnswer = (res: ServerResponse) => {
    count('redelivered');
    sendJson(res, 202, { status: 'accepted', redelivered: true });
  };

  const refusals = createRateLimited(10_000);
  const lookupErrors = createRateLimited(10_000);
  const lookupFailed = (error: unknown) => {
    lookupErrors((suppressed) => {
      deps.logger.warn({ err: error, suppressed }, 'redelivery lookup failed');
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const credentials = checkWebhookCredentials(req.headers.authorization, deps);
    if (credentials !== 'ok') {
      count('unauthorized');
      sendWebhookUnauthorized(res, credentials);
      return;
    }
    // What express's req.is('application/json') asked: a body is announced and its type is JSON.
    if (!typeIs(req, ['application/json'])) {
      count('unsupported_media_type');
      sendError(
        res,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `expected Content-Type: application/json, got ${req.headers['content-type'] ?? 'none'}`,
      );
      return;
    }
    // body-parser compares Content-Length with the limit at once, but then reads the whole body before it answers:
    // a client announcing gigabytes would be read to the end. A compressed body counts too: JSON only ever shrinks
    // when compressed, so one announced over the limit inflates over it. The connection is closed once a bounded
    // rest was read and dropped.
    const announced = Number(req.headers['content-length']);
    if (announced > deps.bodyLimit) {
      count('too_large');
      const message = `body exceeds the limit of ${deps.bodyLimit} bytes (Content-Length: ${announced})`;
      answerThenLinger(req, res, 413, { error: { code: 'PAYLOAD_TOO_LARGE', message } }, lingerLimits);
      return;
    }
    const read = await readBody(req, res);
    if (!read.ok) {
      count((read.error as { type?: unknown }).type === 'entity.too.large' ? 'too_large' : 'invalid');
      sendErrorAnswer(res, read.error, deps.logger);
      return;
    }
    // Before anything else looks at the alerts: validating or matching a million of them would hold the event loop.
    const alerts = alertCount(read.body);
    if (alerts > deps.maxAlerts) {
      count('too_many_alerts');
      refusals((suppressed) => {
        deps.logger.warn({ alerts, maxAlerts: deps.maxAlerts, suppressed }, 'webhook refused: too many alerts; its alerts are lost');
      });
      sendError(
        res,
        413,
        'TOO_MANY_ALERTS',
        `the webhook has ${alerts} alerts, over the limit of ${deps.maxAlerts} (WEBHOOK_MAX_ALERTS): set max_alerts of the Alertmanager webhook receiver to ${deps.maxAlerts} or less, or raise the limit`,
      );
      return;
    }
    // Before the schema: a verbatim redelivery (an Alertmanager retry) of a body accepted earlier is known valid and
    // its runs are queued, so it skips validation and Redis writes. When the lookup fails the body is validated all
    // the same (a bad body is a 400 whatever Redis does); a good one is a 503 at once if Redis is unreachable (not a
    // second wait of REDIS_TIMEOUT_MS in accept), and takes the full path after any other failure.
    let lookupError: unknown;
    const seen = await deps.intake.seen(read.digest).catch((error: unknown) => {
      lookupError = error;
      lookupFailed(error);
      return false;
    });
    if (seen) {
      redeliveredAnswer(res);
      return;
    }
    const parsed = parseWebhook(read.body, maxListedIssues);
    if (!parsed.success) {
      count('invalid');
      const details = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
      const unlisted = parsed.uncheckedAlerts > 0 ? `; ${parsed.uncheckedAlerts} of ${alerts} alerts were not checked` : '';
      const more = parsed.incomplete ? `\n(only the first ${details.length} problems are listed${unlisted})` : '';
      sendError(
        res,
        400,
        'INVALID_WEBHOOK',
        `not an Alertmanager webhook:\n${z.prettifyError(parsed.error)}`.slice(0, 4000) + more,
        details,
      );
      return;
    }
    if (lookupError !== undefined && isRedisUnavailable(lookupError)) {
      intakeFailed(res, lookupError);
      return;
    }
    try {
      const result = await deps.intake.accept(parsed.data, { digest: read.digest });
      if (result.redelivered) {
        redeliveredAnswer(res);
        return;
      }
      count('accepted');
      // The same answer whether this delivery or an earlier one (a redelivery, the reconcile loop) added the runs.
      const runs = result.runs.map(({ added: _added, ...run }) => run);
      sendJson(res, 202, { status: 'accepted', alerts: result.alerts, runs, cancelledFailbacks: result.cancelledFailbacks });
    } catch (error) {
      intakeFailed(res, error);
    }
  };

  return (req, res) => {
    // Nothing may escape as an unhandled rejection: that would end the process.
    handle(req, res).catch((error: unknown) => {
      count('error');
      sendErrorAnswer(res, error, deps.logger);
    });
  };
}
