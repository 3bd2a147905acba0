import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { UserDirectory } from '../users/user-directory.js';
import { safeEqual } from '../util/safe-equal.js';
import { sendError } from './http-errors.js';
import { createClientQueue } from './client-queue.js';
import { setIdentity } from './identity.js';
import type { FailureRecord, LoginThrottle } from './login-throttle.js';
import type { ProxyIdentity } from './trusted-proxy.js';

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

/** What the webhook's credential check found: good credentials, none at all, or wrong ones. */
export type CredentialCheck = 'ok' | 'missing' | 'invalid';

/**
 * Webhook auth: a bearer token, or basic auth whose password is the token (and whose user is WEBHOOK_USER when
 * set), because Alertmanager's http_config offers both. Open when no token is configured. Pure, so the webhook's
 * fast path can call it on a raw request.
 */
export function checkWebhookCredentials(
  authorization: string | undefined,
  expected: { token: string | undefined; user: string | undefined },
): CredentialCheck {
  if (expected.token === undefined) return 'ok';
  const credentials = parseAuthorization(authorization);
  if (!credentials) return 'missing';
  const ok =
    credentials.scheme === 'bearer'
      ? safeEqual(credentials.token, expected.token)
      : safeEqual(credentials.password, expected.token) && (expected.user === undefined || safeEqual(credentials.user, expected.user));
  return ok ? 'ok' : 'invalid';
}

/** The 401 for a refused webhook: the challenge Alertmanager's http_config understands, and what was wrong. */
export function sendWebhookUnauthorized(res: ServerResponse, check: Exclude<CredentialCheck, 'ok'>): void {
  res.setHeader('WWW-Authenticate', 'Bearer realm="remediator"');
  sendError(
    res,
    401,
    'UNAUTHORIZED',
    check === 'missing' ? 'missing credentials: send Authorization: Bearer <WEBHOOK_TOKEN>' : 'invalid credentials',
  );
}

/** Why an admin login failed; one metric label value each. `throttled`: refused unchecked, the client must wait. */
export type AdminAuthFailure = 'invalid' | 'throttled';

/**
 * Password checks one client may have waiting; more are answered 429 at once. Generous, because behind a reverse
 * proxy every user shares its address, and a page of the queue UI makes several requests at once.
 */
const maxChecksWaiting = 64;

/** The 404 of every admin surface while no credential source is configured. */
export const adminDisabled: RequestHandler = (_req, res) => {
  sendError(
    res,
    404,
    'NOT_FOUND',
    'admin surfaces are disabled: set ADMIN_PASSWORD, USERS_FILE or TRUSTED_PROXY_USER_HEADER to enable them',
  );
};

/**
 * Admin auth: the identity a trusted proxy names (see trusted-proxy.ts), else basic auth checked against `users`
 * (ADMIN_USER / ADMIN_PASSWORD and USERS_FILE). The caller ends up on res.locals (identity.ts). Wrong credentials
 * count against the client's address in `throttle`: after a few, the client is answered 429 with Retry-After, its
 * credentials unchecked, until its wait is over. One client's checks run one at a time (client-queue.ts), so
 * guesses sent in parallel are slowed as guesses in a row are. A request without credentials (a browser's first,
 * before the challenge) counts as nothing.
 */
export function adminAuth(options: {
  users: UserDirectory;
  /** The trusted proxy's identity on a request; absent: no proxy configured. */
  proxy?: (req: IncomingMessage) => ProxyIdentity;
  throttle: LoginThrottle;
  /** Told about every failure, with the client's address; never the credentials. */
  failed?: (failure: { reason: AdminAuthFailure; client: string } & Partial<FailureRecord>) => void;
  /** Told about a proxy header from a peer that is not a trusted proxy (it was ignored). */
  untrustedProxyHeader?: (peer: string) => void;
}): RequestHandler {
  const checks = createClientQueue(maxChecksWaiting);
  return async (req, res, next) => {
    const proxied = options.proxy?.(req) ?? { kind: 'none' };
    if (proxied.kind === 'user') {
      setIdentity(res, { name: proxied.name, role: proxied.role, via: 'proxy' });
      next();
      return;
    }
    if (proxied.kind === 'bad-role') {
      sendError(res, 403, 'FORBIDDEN', `the proxy names no known role for ${proxied.name}: viewer, operator, approver or admin`);
      return;
    }
    if (proxied.kind === 'untrusted') options.untrustedProxyHeader?.(proxied.peer);
    const client = req.socket.remoteAddress ?? 'unknown';
    const outcome = await checks.run(client, async () => {
      const waitMs = options.throttle.waitFor(client);
      if (waitMs > 0) return { kind: 'throttled' as const, waitMs };
      const credentials = parseAuthorization(req.headers.authorization);
      const user = credentials?.scheme === 'basic' ? await options.users.verify(credentials.user, credentials.password) : undefined;
      if (user) {
        options.throttle.succeeded(client);
        return { kind: 'ok' as const, user };
      }
      return { kind: 'refused' as const, failure: credentials ? options.throttle.failed(client) : undefined };
    });
    if (outcome === 'full' || outcome.kind === 'throttled') {
      options.failed?.({ reason: 'throttled', client });
      res.setHeader('Retry-After', String(outcome === 'full' ? 1 : Math.ceil(outcome.waitMs / 1000)));
      sendError(res, 429, 'TOO_MANY_FAILED_LOGINS', 'too many failed logins from this address: try again after Retry-After seconds');
      return;
    }
    if (outcome.kind === 'ok') {
      setIdentity(res, { ...outcome.user, via: 'password' });
      next();
      return;
    }
    if (outcome.failure) options.failed?.({ reason: 'invalid', client, ...outcome.failure });
    res.setHeader('WWW-Authenticate', 'Basic realm="remediator admin", charset="UTF-8"');
    sendError(res, 401, 'UNAUTHORIZED', outcome.failure ? 'invalid credentials' : 'missing credentials');
  };
}
