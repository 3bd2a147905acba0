import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { errorCodes, isAppError } from '../errors/index.js';

/** The JSON error body every non-2xx answer carries. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Sends a JSON error. */
export function sendError(res: Response, status: number, code: string, message: string, details?: unknown): void {
  const body: ErrorBody = { error: { code, message, ...(details === undefined ? {} : { details }) } };
  res.status(status).json(body);
}

/** Maps body-parser failures to 400/413/415 and everything else to a JSON 500; never leaks a stack. */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const type = (error as { type?: unknown }).type;
    if (type === 'entity.too.large') {
      sendError(res, 413, 'PAYLOAD_TOO_LARGE', `body exceeds the limit of ${String((error as { limit?: number }).limit)} bytes`);
      return;
    }
    if (type === 'entity.parse.failed') {
      sendError(res, 400, 'INVALID_JSON', `body is not valid JSON: ${(error as Error).message}`);
      return;
    }
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', (error as Error).message);
      return;
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendError(res, status, 'BAD_REQUEST', (error as Error).message);
      return;
    }
    if (isRedisUnavailable(error)) {
      // Transient: the admin API (pause, approve, runs) is asked to try again, like the webhook.
      logger.warn({ err: error }, 'Redis unavailable while answering a request');
      res.setHeader('Retry-After', '5');
      sendError(res, 503, 'REDIS_UNAVAILABLE', `Redis is unavailable: ${(error as Error).message}`);
      return;
    }
    logger.error({ err: error }, 'unhandled error in request');
    sendError(res, 500, 'INTERNAL', 'internal error');
  };
}

/** ioredis' ways of saying the server cannot be reached now (a closed connection, no offline queue, a timeout). */
const redisUnavailableMessages = /Connection is closed|Stream isn't writeable|enableOfflineQueue|Command timed out|Reached the max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT/;

/** True when an error means Redis is unreachable for now, not that the request was wrong. */
export function isRedisUnavailable(error: unknown): boolean {
  if (isAppError(error, errorCodes.REDIS_UNAVAILABLE)) return true;
  if (!(error instanceof Error)) return false;
  return error.name === 'MaxRetriesPerRequestError' || redisUnavailableMessages.test(error.message);
}
