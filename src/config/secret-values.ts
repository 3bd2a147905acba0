import type { Config } from './config-schema.js';

/** The password of a URL, both as written (percent-encoded) and decoded; none when the URL has none. */
function urlPassword(url: string | undefined): string[] {
  if (url === undefined) return [];
  let password: string;
  try {
    password = new URL(url).password;
  } catch {
    return [];
  }
  if (password === '') return [];
  try {
    return [password, decodeURIComponent(password)];
  } catch {
    // A stray % is not an escape: the password is exactly what was written.
    return [password];
  }
}

/**
 * Every secret value the logger must mask. Plain secrets (tokens, passwords) are masked exactly as given: only
 * URL passwords are percent-decoded, so a token such as `a%41bc` is masked as itself, not as `aAbc`.
 */
export function secretValues(
  config: Pick<Config, 'WEBHOOK_TOKEN' | 'ADMIN_PASSWORD' | 'SMTP_URL' | 'REDIS_URL' | 'REDIS_PASSWORD' | 'REDIS_SENTINEL_PASSWORD'> &
    Partial<Pick<Config, 'ALERTMANAGER_URL' | 'APPROVAL_LINK_KEY'>>,
  others: readonly (string | undefined)[] = [],
): string[] {
  const plain = [
    config.WEBHOOK_TOKEN,
    config.ADMIN_PASSWORD,
    config.APPROVAL_LINK_KEY,
    config.REDIS_PASSWORD,
    config.REDIS_SENTINEL_PASSWORD,
    ...others,
  ];
  const values = [
    ...plain.filter((secret): secret is string => secret !== undefined && secret !== ''),
    ...urlPassword(config.SMTP_URL),
    ...urlPassword(config.REDIS_URL),
    ...(config.ALERTMANAGER_URL ?? []).flatMap(urlPassword),
  ];
  return [...new Set(values)];
}
