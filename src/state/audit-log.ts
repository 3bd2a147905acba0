import type { Redis } from 'ioredis';

/** One operator action, as the audit keeps it. */
export interface AuditEntry {
  /** The stream id: when it was appended, and the order of the entries. */
  id: string;
  at: string;
  user: string;
  action: string;
  target?: string;
  outcome: string;
  detail?: unknown;
}

/** What an operator did, who did it, and how it ended: appended by the admin API, read by GET /api/audit. */
export interface AuditLog {
  append(entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void>;
  /** The newest entries first, at most `limit`, older than the entry `before` when given. */
  list(options: { limit: number; before?: string }): Promise<AuditEntry[]>;
}

/**
 * The audit as a Redis stream under `prefix` (per queue, so every replica appends to one), trimmed to about
 * `maxEntries` (XADD MAXLEN ~): bounded however busy the operators are.
 */
export function createAuditLog(redis: Redis, options: { prefix: string; maxEntries?: number; now?: () => Date }): AuditLog {
  const key = `${options.prefix}:audit`;
  const now = options.now ?? (() => new Date());
  return {
    async append(entry) {
      const fields = ['at', now().toISOString(), 'user', entry.user, 'action', entry.action, 'outcome', entry.outcome];
      if (entry.target !== undefined) fields.push('target', entry.target);
      if (entry.detail !== undefined) fields.push('detail', JSON.stringify(entry.detail));
      await redis.xadd(key, 'MAXLEN', '~', String(options.maxEntries ?? 10_000), '*', ...fields);
    },
    async list({ limit, before }) {
      // XREVRANGE's start is inclusive: "(" makes it exclusive, so a page starts after the last entry shown.
      const rows = await redis.xrevrange(key, before === undefined ? '+' : `(${before}`, '-', 'COUNT', limit);
      return rows.map(([id, flat]) => {
        const fields = new Map<string, string>();
        for (let index = 0; index + 1 < flat.length; index += 2) fields.set(flat[index] ?? '', flat[index + 1] ?? '');
        const detail = fields.get('detail');
        return {
          id,
          at: fields.get('at') ?? '',
          user: fields.get('user') ?? '',
          action: fields.get('action') ?? '',
          ...(fields.has('target') ? { target: fields.get('target') ?? '' } : {}),
          outcome: fields.get('outcome') ?? '',
          ...(detail === undefined ? {} : { detail: parseDetail(detail) }),
        };
      });
    },
  };
}

function parseDetail(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
