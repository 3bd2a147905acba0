import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import typeIs from 'type-is';
import { sendError } from './http-errors.js';

/** Why the guard refused a state-changing admin request; one metric label value each. */
export type WriteRefusal = 'cross_site' | 'not_json';

/** Methods that change nothing: a browser sends them cross-site freely, so they must never act. */
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * What the browser says about where a request came from, when it says anything: null when the request may go on,
 * else the reason to refuse it. Clients that are not browsers (curl, scripts) send neither header and pass.
 */
export function crossSiteReason(headers: IncomingHttpHeaders, allowedOrigins: ReadonlySet<string>): string | null {
  const site = headers['sec-fetch-site'];
  // `none` is a request the user made directly (address bar, bookmark), which no page can cause; `same-site` is
  // refused, because every port of a host (127.0.0.1:A and 127.0.0.1:B) and every subdomain is the same site.
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site is ${site}`;
  const origin = headers.origin;
  if (origin === undefined) return null;
  const host = headers.host;
  // The scheme is not compared: behind a proxy that terminates TLS this server cannot know it, and a page on the
  // other scheme is another site to the browser (refused by Sec-Fetch-Site above).
  if (host !== undefined && (origin === `http://${host}` || origin === `https://${host}`)) return null;
  if (allowedOrigins.has(origin)) return null;
  return `Origin ${origin} is not this server`;
}

/**
 * Guards the state-changing requests (anything but GET, HEAD, OPTIONS) of an admin surface against cross-site
 * request forgery: a page on another site, in a browser holding the admin's basic-auth credentials, must not
 * pause remediation, approve a run or touch the queue.
 *
 * - A request the browser marks as cross-site (Sec-Fetch-Site) or from another origin (Origin) gets 403. Origins
 *   in `allowedOrigins` (ADMIN_ALLOWED_ORIGINS) pass: a reverse proxy may rewrite Host.
 * - For methods in `jsonMethods`, the body must be declared as JSON (`Content-Type: application/json`, an empty
 *   body included), else 415: a form can only send text/plain, urlencoded or multipart, and a cross-site script
 *   cannot send JSON without a CORS preflight that remediator never grants. This holds even for browsers too old
 *   to send Sec-Fetch-Site.
 */
export function createAdminWriteGuard(options: {
  allowedOrigins: ReadonlySet<string>;
  jsonMethods: ReadonlySet<string>;
  refused?: (reason: WriteRefusal) => void;
}): RequestHandler {
  return (req, res, next) => {
    if (safeMethods.has(req.method)) {
      next();
      return;
    }
    const crossSite = crossSiteReason(req.headers, options.allowedOrigins);
    if (crossSite !== null) {
      options.refused?.('cross_site');
      sendError(
        res,
        403,
        'CROSS_SITE_REQUEST',
        `refused a cross-site ${req.method}: ${crossSite}. Admin changes are accepted from remediator's own pages and from clients that are not browsers; add the origin of a reverse proxy to ADMIN_ALLOWED_ORIGINS`,
      );
      return;
    }
    if (options.jsonMethods.has(req.method) && !typeIs.is(req.headers['content-type'] ?? '', ['application/json'])) {
      options.refused?.('not_json');
      sendError(
        res,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `${req.method} ${req.originalUrl} needs Content-Type: application/json (the body may be empty), got ${req.headers['content-type'] ?? 'none'}: e.g. curl -X ${req.method} -H 'content-type: application/json'`,
      );
      return;
    }
    next();
  };
}
