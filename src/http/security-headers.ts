import type { RequestHandler } from 'express';

/**
 * What the admin pages may load: only this server. Bull Board's scripts and styles come from its own static
 * directory; its page and React set inline styles (`style=""`, a `<style>` block), hence 'unsafe-inline' for styles
 * only. Scripts stay strict: its inline `<script type="application/json">` is data, never run.
 */
export const adminContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The headers of every admin answer (/api, /queues): no framing (clickjacking of the board's buttons), the CSP
 * above, no MIME sniffing of JSON, and no Referer carrying run ids to other sites.
 */
export const adminSecurityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', adminContentSecurityPolicy);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
};
