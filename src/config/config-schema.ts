import { z } from 'zod';
import { durationSchema } from '../core/duration.js';
import { sentinelListSchema } from './sentinel-list.js';
import { roles } from '../users/roles.js';
import { parseAddressEntry } from '../util/address-list.js';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const optionalSecret = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value === '' ? undefined : value));

/** An HTTP header's name (RFC 9110 token). */
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name, like X-Forwarded-User');

const httpUrl = z.url({ protocol: /^https?$/ });

/** An origin as a browser sends it in `Origin`: http(s)://host[:port], nothing after it. */
const originSchema = z.string().transform((value, ctx) => {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || !/^https?:$/.test(url.protocol) || url.origin !== value.replace(/\/$/, '').toLowerCase()) {
    ctx.addIssue({ code: 'custom', message: `${value} is not an origin: http(s)://host[:port], without a path, query or credentials` });
    return z.NEVER;
  }
  return url.origin;
});

/** `https://a.example,http://b.example:8080`: origins separated by commas. */
const originListSchema = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
  )
  .pipe(z.array(originSchema));

/** The environment remediator reads, validated once at start-up. */
export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(9095),
  HOST: z.string().min(1).default('127.0.0.1'),
  REDIS_URL: optionalSecret.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  /** Instead of REDIS_URL: the sentinels to ask for the primary (host:port,…); see config-rules.ts for the pairing. */
  REDIS_SENTINELS: sentinelListSchema.optional(),
  REDIS_SENTINEL_NAME: z.string().regex(/^\S+$/, 'a master name has no spaces').optional(),
  REDIS_SENTINEL_PASSWORD: optionalSecret,
  /** The data servers' password in Sentinel mode (with REDIS_URL it is part of the URL). */
  REDIS_PASSWORD: optionalSecret,
  REMEDIATIONS_DIR: z.string().min(1).default('./remediations'),
  /** Default: inventory.yaml in REMEDIATIONS_DIR (optional there; required when set explicitly). */
  INVENTORY_FILE: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default('./.remediator'),
  PROMETHEUS_URL: z
    .string()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .pipe(httpUrl.optional()),
  WEBHOOK_TOKEN: optionalSecret,
  WEBHOOK_USER: optionalSecret,
  ADMIN_USER: z.string().min(1).default('admin'),
  /** The remediator serve the CLI's admin commands (hold, run, audit, …) call; default http://127.0.0.1:PORT. */
  REMEDIATOR_URL: z
    .string()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .pipe(httpUrl.optional()),
  ADMIN_PASSWORD: optionalSecret,
  /** YAML `users: [{name, passwordHash, role}]`: named users of the admin surfaces (hashes only, docs/users.md). */
  USERS_FILE: z.string().min(1).optional(),
  /** A reverse proxy's header naming the authenticated user (SSO); believed only from TRUSTED_PROXIES. */
  TRUSTED_PROXY_USER_HEADER: headerName.optional(),
  /** Its header naming the user's role; absent, or not sent: TRUSTED_PROXY_DEFAULT_ROLE. */
  TRUSTED_PROXY_ROLE_HEADER: headerName.optional(),
  TRUSTED_PROXY_DEFAULT_ROLE: z.enum(roles).default('viewer'),
  /** The proxies' addresses and CIDR blocks (comma-separated): the TCP peers whose user header counts. */
  TRUSTED_PROXIES: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const entries = (value ?? '')
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean);
      for (const entry of entries) {
        const parsed = parseAddressEntry(entry);
        if (!parsed.success) ctx.addIssue({ code: 'custom', message: parsed.message });
      }
      return entries;
    }),
  /** The HMAC-SHA256 key of approval links; unset: no links are issued and /approve/ is not served. */
  APPROVAL_LINK_KEY: optionalSecret.pipe(z.string().min(32, 'at least 32 characters (e.g. openssl rand -hex 32)').optional()),
  /**
   * Where a person's browser reaches remediator (through a proxy, say): the base of approval links. Not REMEDIATOR_URL,
   * which is where the CLI on this host reaches it (often http://127.0.0.1:PORT, useless in an email).
   */
  PUBLIC_URL: z
    .string()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .pipe(httpUrl.optional()),
  /** HTTPS: the server's certificate (chain) and key, PEM; both or neither (config-rules.ts). */
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  /** With HTTPS: the CA whose client certificates the webhook requires (Alertmanager's tls_config cert_file/key_file). */
  TLS_CLIENT_CA_FILE: z.string().min(1).optional(),
  /** How often the TLS files are read again; a renewed valid pair is served without a restart. */
  TLS_RELOAD_INTERVAL: durationSchema.refine((ms) => ms >= 1000, 'at least 1s: each poll reads the three files').default(60_000),
  /** Origins (besides the server's own) whose pages may make admin changes, e.g. behind a proxy rewriting Host. */
  ADMIN_ALLOWED_ORIGINS: originListSchema.default([]),
  SMTP_URL: optionalSecret.pipe(z.url({ protocol: /^smtps?$/ }).optional()),
  SMTP_FROM: z.string().min(1).default('remediator@localhost'),
  DRY_RUN: booleanFlag.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  QUEUE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
    .default('remediations'),
  WEBHOOK_BODY_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(5 * 1024 * 1024), // 5 MiB
  /**
   * Alerts in one webhook; more is a 413 before any validation. Alertmanager's own max_alerts is 0 (no limit), so
   * this sits far above any real group (bench: ~25,000 alerts/s through the intake, so 10,000 is under half a second
   * of work for one body) while a body of 5 MiB of `{}` (1.7 million alerts) is refused at once.
   */
  WEBHOOK_MAX_ALERTS: z.coerce.number().int().positive().default(10_000),
  /** UTF-8 bytes kept of each label value, annotation value and alert on intake; the rest is cut with a marker. */
  WEBHOOK_LABEL_VALUE_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024), // 4 KiB
  WEBHOOK_ANNOTATION_VALUE_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(16 * 1024), // 16 KiB
  WEBHOOK_ALERT_VALUES_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024), // 64 KiB
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(8),
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).default(15_000),
  RUN_RETENTION: durationSchema.default(30 * 86_400_000), // 30 days: also the dedup horizon
  TARGET_LOCK_TTL_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Fleet-wide budgets, shared by every replica (0: no limit). */
  MAX_CONCURRENT_RUNS: z.coerce.number().int().min(0).default(0),
  CONCURRENCY_EXCEEDED: z.enum(['wait', 'skip']).default('wait'),
  BLAST_RADIUS_MAX_TARGETS: z.coerce.number().int().min(0).default(0),
  BLAST_RADIUS_WINDOW: durationSchema.default(3_600_000),
  /** At shutdown, how long running steps may take to finish before they are interrupted and handed back. */
  SHUTDOWN_TIMEOUT: durationSchema.default(10_000),
  REDIS_TIMEOUT_MS: z.coerce.number().int().min(50).default(5000),
  /** `remediator exporter`: its port (--port overrides) and how long one member probe may take. */
  EXPORTER_PORT: z.coerce.number().int().min(0).max(65_535).default(9105),
  // 1 s: a member that takes longer to answer INFO (or one query) is not serving its clients either, and a hung
  // (SIGSTOP'd) member is reported down after this long. A scrape with a shorter deadline shortens it further.
  EXPORTER_PROBE_TIMEOUT_MS: z.coerce.number().int().min(50).default(1000),
  /**
   * The reconcile loop (src/reconcile/): how often it looks at the clusters' roles and the Alertmanagers' alerts;
   * 0 turns it off. 5 s: a returning stale primary is fenced within 10 s without any notification.
   */
  RECONCILE_INTERVAL: z.preprocess((value) => (value === '0' || value === 'off' ? 0 : value), durationSchema).default(5000),
  /** The loop's lease: a dead holder is replaced this long after its last renewal at the latest. */
  RECONCILE_LEASE_TTL: durationSchema.default(15_000),
  /** Alertmanagers whose alerts the loop reads (comma-separated; an HA pair lists both). Credentials in the URL. */
  ALERTMANAGER_URL: optionalSecret.pipe(z.string().optional()).transform((value, ctx) => {
    const urls = (value ?? '')
      .split(',')
      .map((url) => url.trim())
      .filter(Boolean);
    for (const url of urls)
      if (!httpUrl.safeParse(url).success) ctx.addIssue({ code: 'custom', message: `${redactUserinfo(url)} is not an http(s) URL` });
    return urls;
  }),
  /** Only alerts Alertmanager routes to a receiver matching this regular expression (its own `receiver` filter). */
  ALERTMANAGER_RECEIVER: z.string().min(1).optional(),
  /** An Alertmanager up for less than this does not yet know every firing alert: no resolution is inferred from it. */
  RECONCILE_ALERTMANAGER_WARMUP: durationSchema.default(120_000),
  /** First wait before an episode a step skipped (death not confirmed) is run again while its alert is active; doubles. */
  RECONCILE_RECHECK_AFTER: durationSchema.default(30_000),
});

/** A URL for an error message: its credentials left out. */
function redactUserinfo(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//[redacted]@');
}

/** Validated, frozen configuration. */
export type Config = Readonly<z.output<typeof configSchema>>;

/** Variables that may be given as `NAME_FILE` (a path whose content is the value). */
export const secretVariables = [
  'WEBHOOK_TOKEN',
  'ADMIN_PASSWORD',
  'APPROVAL_LINK_KEY',
  'SMTP_URL',
  'REDIS_URL',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
  'ALERTMANAGER_URL',
] as const;
