import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { AuditLog } from '../state/audit-log.js';
import { identityOf } from './identity.js';

/**
 * Records every change made through the queue UI (Bull Board's PUT, POST, PATCH and DELETE under /queues/api:
 * retry, promote, clean, pause, remove, edit) in the audit, once its answer is sent: the path names the queue, the
 * job and the operation, the outcome is the HTTP status.
 */
export function queueUiAudit(deps: { audit: Pick<AuditLog, 'append'>; logger: Logger }): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || !req.path.toLowerCase().startsWith('/api/')) {
      next();
      return;
    }
    const target = req.path
      .slice('/api/'.length)
      .replace(/^queues\//, '')
      .split('/')
      .map((segment) => safeDecode(segment))
      .join('/');
    const user = identityOf(res).name;
    res.once('finish', () => {
      deps.audit
        .append({ user, action: 'queue-ui', target, outcome: String(res.statusCode), detail: { method: req.method } })
        .catch((error: unknown) => {
          deps.logger.warn({ err: error, target }, 'could not record a queue UI action in the audit');
        });
    });
    next();
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
