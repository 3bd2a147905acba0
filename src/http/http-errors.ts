import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';

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
    logger.error({ err: error }, 'unhandled error in request');
    sendError(res, 500, 'INTERNAL', 'internal error');
  };
}
