import { z } from 'zod';
import { checkConfigRules } from './config-rules.js';
import { configSchema, secretVariables, type Config } from './config-schema.js';
import { formatSentinelAddress } from './sentinel-list.js';

/** The outcome of loading configuration: never throws. */
export type ConfigResult = { success: true; data: Config } | { success: false; error: string };

/**
 * Reads configuration from `env`, resolving `NAME_FILE` for secrets through `readFile`, and freezes it.
 * A variable and its `_FILE` twin together are an error: which one wins would be a guess.
 */
export function loadConfig(env: Record<string, string | undefined>, readFile: (path: string) => string): ConfigResult {
  // An empty variable means unset (`PORT=` must not become port 0), as shells and compose files often leave them.
  const resolved: Record<string, string | undefined> = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const problems: string[] = [];
  for (const name of secretVariables) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      resolved[name] = readFile(file).replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const parsed = configSchema.safeParse(resolved);
  if (!parsed.success) problems.push(z.prettifyError(parsed.error));
  problems.push(...checkConfigRules(resolved));
  if (problems.length > 0 || !parsed.success) {
    return { success: false, error: `invalid configuration:\n${problems.join('\n')}` };
  }
  return { success: true, data: Object.freeze(parsed.data) };
}

/** The configuration with secrets masked, fit for a log line. */
export function describeConfig(config: Config): Record<string, unknown> {
  const mask = (value: string | undefined) => (value === undefined ? undefined : '[redacted]');
  return {
    ...config,
    WEBHOOK_TOKEN: mask(config.WEBHOOK_TOKEN),
    ADMIN_PASSWORD: mask(config.ADMIN_PASSWORD),
    APPROVAL_LINK_KEY: mask(config.APPROVAL_LINK_KEY),
    SMTP_URL: config.SMTP_URL && redactUrl(config.SMTP_URL),
    REDIS_URL: config.REDIS_URL && redactUrl(config.REDIS_URL),
    REDIS_SENTINELS: config.REDIS_SENTINELS?.map(formatSentinelAddress).join(','),
    REDIS_PASSWORD: mask(config.REDIS_PASSWORD),
    REDIS_SENTINEL_PASSWORD: mask(config.REDIS_SENTINEL_PASSWORD),
    ALERTMANAGER_URL: config.ALERTMANAGER_URL.map(redactUrl).join(','),
  };
}

/** Replaces the password of a URL with `[redacted]`. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = 'redacted';
    return url.toString();
  } catch {
    return '[redacted]';
  }
}
