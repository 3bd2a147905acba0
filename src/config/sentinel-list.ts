import { isIP, isIPv6 } from 'node:net';
import { z } from 'zod';

/** One Redis Sentinel to ask for the primary; `host` is bare (no brackets around IPv6). */
export interface SentinelAddress {
  readonly host: string;
  readonly port: number;
}

// A DNS name or an IPv4 address; anything with a ':' must be a bracketed IPv6 address.
const hostName = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/** host:port of a sentinel, with brackets around an IPv6 host. */
export function formatSentinelAddress({ host, port }: SentinelAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parses one `host:port` or `[v6]:port` entry; returns a message instead when it is not one. */
export function parseSentinelAddress(entry: string): SentinelAddress | string {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(entry);
  if (!match) {
    return isIPv6(entry) || (entry.split(':').length > 2 && !entry.startsWith('['))
      ? `"${entry}": put an IPv6 address in brackets, as in [::1]:26379`
      : `"${entry}": expected host:port, as in sentinel-1:26379`;
  }
  const [, v6, name, portText = ''] = match;
  const port = Number(portText);
  if (port < 1 || port > 65_535) return `"${entry}": port must be 1-65535`;
  if (v6 !== undefined) return isIPv6(v6) ? { host: v6, port } : `"${entry}": "${v6}" is not an IPv6 address`;
  const host = name ?? '';
  if (!hostName.test(host) || (isIP(host) === 0 && /^[\d.]+$/.test(host)))
    return `"${entry}": "${host}" is not a host name or IPv4 address`;
  return { host, port };
}

/**
 * A comma-separated list of sentinels (`10.0.0.1:26379,sentinel-2:26379,[fd00::3]:26379`), each listed once;
 * spaces around entries are allowed. Every bad entry is reported, not only the first.
 */
export const sentinelListSchema = z.string().transform((text, ctx): readonly SentinelAddress[] => {
  const addresses: SentinelAddress[] = [];
  const seen = new Set<string>();
  for (const [index, raw] of text.split(',').entries()) {
    const entry = raw.trim();
    const parsed = entry === '' ? `entry ${index + 1} is empty` : parseSentinelAddress(entry);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      continue;
    }
    const key = `${parsed.host}:${parsed.port}`;
    if (seen.has(key)) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is listed twice` });
      continue;
    }
    seen.add(key);
    addresses.push(parsed);
  }
  return Object.freeze(addresses);
});
