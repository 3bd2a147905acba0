import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { errorCodes, isAppError } from '../core/errors/index.js';

/** The JSON error body every non-2xx answer carries. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/**
 * Sends `body` as JSON with `status`. Works on a plain ServerResponse (the webhook's fast path) as on express's
 * Response, which extends it. Returns false, writing nothing, when an answer was already started or the client is
 * gone: a second answer would throw, and there is nobody left to read one.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): boolean {
  if (res.headersSent || res.writableEnded || res.destroyed) return false;
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
  return true;
}

/** Sends a JSON error. */
export function sendError(res: ServerResponse, status: number, code: string, message: string, details?: unknown): void {
  const body: ErrorBody = { error: { code, message, ...(details === undefined ? {} : { details }) } };
  sendJson(res, status, body);
}

/** How to answer a failed request: what sendError needs, plus the headers and log line that go with it. */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  /** Seconds, for a transient failure the client should retry. */
  retryAfter?: number;
  /** Set when the failure is ours rather than the client's, so it deserves a log line. */
  log?: { level: 'warn' | 'error'; message: string };
}

/**
 * Maps body-parser failures to 400/413/415, other client errors to their own 4xx, an unreachable Redis to 503 and
 * anything else to a 500 that never leaks a stack. The express error handler and the webhook's fast path both
 * answer from it, so a malformed body gets the same answer on either.
 */
export function errorAnswer(error: unknown): ErrorAnswer {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large') {
    return {
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: `body exceeds the limit of ${String((error as { limit?: number }).limit)} bytes`,
    };
  }
  if (type === 'entity.parse.failed')
    return { status: 400, code: 'INVALID_JSON', message: `body is not valid JSON: ${(error as Error).message}` };
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: (error as Error).message };
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return { status, code: 'BAD_REQUEST', message: (error as Error).message };
  if (isRedisUnavailable(error)) {
    // Transient: the admin API (pause, approve, runs) is asked to try again, like the webhook.
    return {
      status: 503,
      code: 'REDIS_UNAVAILABLE',
      message: `Redis is unavailable: ${(error as Error).message}`,
      retryAfter: 5,
      log: { level: 'warn', message: 'Redis unavailable while answering a request' },
    };
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error', log: { level: 'error', message: 'unhandled error in request' } };
}

/** Answers `error` as errorAnswer says, logging it when it is ours. */
export function sendErrorAnswer(res: ServerResponse, error: unknown, logger: Logger): void {
  const answer = errorAnswer(error);
  if (answer.log) logger[answer.log.level]({ err: error }, answer.log.message);
  if (res.headersSent) return;
  if (answer.retryAfter !== undefined) res.setHeader('Retry-After', String(answer.retryAfter));
  sendError(res, answer.status, answer.code, answer.message);
}

/** The express app's last handler: every error becomes a JSON answer (see errorAnswer). */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    sendErrorAnswer(res, error, logger);
  };
}

/** ioredis' ways of saying the server cannot be reached now (a closed connection, no offline queue, a timeout). */
const redisUnavailableMessages =
  /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|Reached the max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT/;

/** True when an error means Redis is unreachable for now, not that the request was wrong. */
export function isRedisUnavailable(error: unknown): boolean {
  if (isAppError(error, errorCodes.REDIS_UNAVAILABLE)) return true;
  if (!(error instanceof Error)) return false;
  return error.name === 'MaxRetriesPerRequestError' || redisUnavailableMessages.test(error.message);
}
