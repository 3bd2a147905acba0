import { parseDuration } from '../core/duration.js';

/**
 * A check across variables, run on the environment once `_FILE` secrets are resolved (so it reports alongside
 * the per-variable errors, not after them): a problem as `NAME: message`, or undefined.
 */
export type ConfigRule = (env: Readonly<Record<string, string | undefined>>) => string | undefined;

const isSet = (env: Readonly<Record<string, string | undefined>>, name: string) => env[name] !== undefined && env[name] !== '';

/** REDIS_URL names one server, REDIS_SENTINELS asks the sentinels for the primary: which one to use would be a guess. */
export const redisUrlOrSentinels: ConfigRule = (env) =>
  isSet(env, 'REDIS_URL') && isSet(env, 'REDIS_SENTINELS')
    ? 'REDIS_URL: set either REDIS_URL (one Redis server) or REDIS_SENTINELS (the primary Sentinel names), not both'
    : undefined;

/**
 * No default master name: sentinels often monitor several masters, and a guessed name would put the queue into
 * another system's Redis.
 */
export const sentinelNameRequired: ConfigRule = (env) =>
  isSet(env, 'REDIS_SENTINELS') && !isSet(env, 'REDIS_SENTINEL_NAME')
    ? "REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name in the sentinels' `sentinel monitor <name> …`)"
    : undefined;

/**
 * Sentinel settings without REDIS_SENTINELS are a mistake, not a no-op: serve would quietly use REDIS_URL or
 * start a private Redis, and replicas would stop sharing one queue.
 */
export const sentinelSettingsNeedSentinels: ConfigRule = (env) => {
  if (isSet(env, 'REDIS_SENTINELS')) return undefined;
  const stray = ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_PASSWORD'].filter((name) => isSet(env, name));
  if (stray.length === 0) return undefined;
  const hint = stray.includes('REDIS_PASSWORD') ? '; with REDIS_URL, put the password in the URL (redis://:password@host:6379)' : '';
  return `${stray.join(', ')}: only used with REDIS_SENTINELS, which is not set${hint}`;
};

/**
 * The loop's holder renews its lease once per interval: a lease no longer than the interval would lapse between
 * two renewals and pass to another replica every time.
 */
export const reconcileLeaseOutlastsInterval: ConfigRule = (env) => {
  const interval = env.RECONCILE_INTERVAL === undefined || env.RECONCILE_INTERVAL === '' ? 5000 : durationOf(env.RECONCILE_INTERVAL);
  const ttl = env.RECONCILE_LEASE_TTL === undefined || env.RECONCILE_LEASE_TTL === '' ? 15_000 : durationOf(env.RECONCILE_LEASE_TTL);
  if (interval === undefined || ttl === undefined || interval === 0 || ttl > interval) return undefined;
  return `RECONCILE_LEASE_TTL: must be longer than RECONCILE_INTERVAL (${interval} ms), three times as long is usual`;
};

/** Links need an address an approver's browser reaches; without one they could not be written into a notification. */
export const approvalLinksNeedPublicUrl: ConfigRule = (env) =>
  isSet(env, 'APPROVAL_LINK_KEY') && !isSet(env, 'PUBLIC_URL')
    ? 'PUBLIC_URL: required with APPROVAL_LINK_KEY (the address of remediator as an approver opens it, e.g. https://remediator.example.com)'
    : undefined;
/** A certificate without its key (or the reverse) cannot serve HTTPS; a client CA without HTTPS has no handshake to check. */
export const tlsFilesTogether: ConfigRule = (env) => {
  const cert = isSet(env, 'TLS_CERT_FILE');
  const key = isSet(env, 'TLS_KEY_FILE');
  if (cert !== key)
    return `${cert ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE'}: required with ${cert ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE'} (HTTPS needs both)`;
  if (!cert && isSet(env, 'TLS_CLIENT_CA_FILE')) return 'TLS_CLIENT_CA_FILE: only used with HTTPS: set TLS_CERT_FILE and TLS_KEY_FILE too';
  return undefined;
};

const durationOf = (text: string) => (text === '0' || text === 'off' ? 0 : /^\d+$/.test(text) ? Number(text) : parseDuration(text));

/**
 * A user header believed from anyone would let anyone name themselves admin: it needs the proxies' addresses. And
 * proxy settings without the user header are a mistake, not a no-op: nobody would be let in through the proxy.
 */
export const trustedProxyComplete: ConfigRule = (env) => {
  if (isSet(env, 'TRUSTED_PROXY_USER_HEADER'))
    return isSet(env, 'TRUSTED_PROXIES')
      ? undefined
      : "TRUSTED_PROXIES: required with TRUSTED_PROXY_USER_HEADER (the proxies' addresses or CIDR blocks)";
  const stray = ['TRUSTED_PROXIES', 'TRUSTED_PROXY_ROLE_HEADER', 'TRUSTED_PROXY_DEFAULT_ROLE'].filter((name) => isSet(env, name));
  return stray.length === 0 ? undefined : `${stray.join(', ')}: only used with TRUSTED_PROXY_USER_HEADER, which is not set`;
};

/** Every rule, in the order their problems are reported. */
export const configRules: readonly ConfigRule[] = [
  redisUrlOrSentinels,
  sentinelNameRequired,
  sentinelSettingsNeedSentinels,
  reconcileLeaseOutlastsInterval,
  trustedProxyComplete,
  approvalLinksNeedPublicUrl,
  tlsFilesTogether,
];

/** Runs every rule and returns all of their problems. */
export function checkConfigRules(env: Readonly<Record<string, string | undefined>>, rules: readonly ConfigRule[] = configRules): string[] {
  return rules.map((rule) => rule(env)).filter((problem): problem is string => problem !== undefined);
}
