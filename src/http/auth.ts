import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { sendError } from './http-errors.js';

/** Compares two secrets in constant time (hashing first, so lengths do not leak either). */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The credentials in an Authorization header, if any. */
export type Credentials = { scheme: 'bearer'; token: string } | { scheme: 'basic'; user: string; password: string };

/** Parses `Authorization: Bearer …` or `Authorization: Basic …`. */
export function parseAuthorization(header: string | undefined): Credentials | undefined {
  if (!header) return undefined;
  const [scheme = '', ...rest] = header.trim().split(/\s+/);
  const value = rest.join(' ');
  if (/^bearer$/i.test(scheme) && value) return { scheme: 'bearer', token: value };
  if (/^basic$/i.test(scheme) && value) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    return { scheme: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

/**
 * Webhook auth: a bearer token, or basic auth whose password is the token (and whose user is WEBHOOK_USER when
 * set), because Alertmanager's http_config offers both. Open when no token is configured.
 */
export function webhookAuth(options: { token: string | undefined; user: string | undefined; onDenied?: () => void }): RequestHandler {
  return (req, res, next) => {
    if (options.token === undefined) {
      next();
      return;
    }
    const credentials = parseAuthorization(req.headers.authorization);
    const ok =
      credentials?.scheme === 'bearer'
        ? safeEqual(credentials.token, options.token)
        : credentials?.scheme === 'basic'
          ? safeEqual(credentials.password, options.token) && (options.user === undefined || safeEqual(credentials.user, options.user))
          : false;
    if (ok) {
      next();
      return;
    }
    options.onDenied?.();
    res.setHeader('WWW-Authenticate', 'Bearer realm="remediator"');
    sendError(res, 401, 'UNAUTHORIZED', credentials ? 'invalid credentials' : 'missing credentials: send Authorization: Bearer <WEBHOOK_TOKEN>');
  };
}

/** Admin auth (basic, ADMIN_USER / ADMIN_PASSWORD). Admin surfaces answer 404 when no password is configured. */
export function adminAuth(options: { user: string; password: string | undefined }): RequestHandler {
  return (req, res, next) => {
    if (options.password === undefined) {
      sendError(res, 404, 'NOT_FOUND', 'admin surfaces are disabled: set ADMIN_PASSWORD to enable them');
      return;
    }
    const credentials = parseAuthorization(req.headers.authorization);
    if (credentials?.scheme === 'basic' && safeEqual(credentials.user, options.user) && safeEqual(credentials.password, options.password)) {
      next();
      return;
    }
    res.setHeader('WWW-Authenticate', 'Basic realm="remediator admin", charset="UTF-8"');
    sendError(res, 401, 'UNAUTHORIZED', credentials ? 'invalid credentials' : 'missing credentials');
  };
}
