import { createHash } from 'node:crypto';
import { z } from 'zod';
import { isPlainObject, labelSetSchema } from '../core/label-set.js';

/** Go's zero time.Time, which Alertmanager writes as the endsAt of a firing alert ("no end yet"). */
export const zeroTime = '0001-01-01T00:00:00Z';
const zeroTimeMs = Date.parse(zeroTime);

/**
 * A full RFC 3339 date-time as Go writes and reads it (time.RFC3339Nano): date, `T`, time, up to nine fraction
 * digits, then `Z` or an offset. Date.parse is far too lenient to decide this: it takes "1" (the year 2001) and
 * rolls February 30 over into March.
 */
const rfc3339 =
  /^(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})T(?<hour>\d{2}):(?<minute>\d{2}):(?<second>\d{2})(?:\.\d{1,9})?(?:Z|[+-](?<offsetHours>\d{2}):(?<offsetMinutes>\d{2}))$/;

const daysIn = (year: number, month: number) =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/** True for a date-time `rfc3339` matches whose fields are in range (no leap second: Go refuses one too). */
export function isRfc3339(text: string): boolean {
  const fields = rfc3339.exec(text)?.groups;
  if (!fields) return false;
  const field = (name: string) => Number(fields[name] ?? 0);
  const month = field('month');
  const day = field('day');
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysIn(field('year'), month) &&
    field('hour') <= 23 &&
    field('minute') <= 59 &&
    field('second') <= 59 &&
    field('offsetHours') <= 23 &&
    field('offsetMinutes') <= 59
  );
}

const timestampMessage = 'must be an RFC 3339 date-time such as 2026-11-22T03:00:00Z';
const timestamp = z.string().refine(isRfc3339, timestampMessage);
/** An alert's start: Go's zero time there means a sender that never set it, and would read as 2,000 years of detection. */
const startTimestamp = z.string().check((ctx) => {
  if (!isRfc3339(ctx.value)) ctx.issues.push({ code: 'custom', message: timestampMessage, input: ctx.value });
  else if (Date.parse(ctx.value) === zeroTimeMs)
    ctx.issues.push({ code: 'custom', message: `must not be the zero time ${zeroTime}: the alert has no start`, input: ctx.value });
});

/** One alert of an Alertmanager webhook (v4). Unknown fields are tolerated and dropped. */
export const webhookAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSetSchema,
  annotations: labelSetSchema.default({}),
  startsAt: startTimestamp,
  /** Alertmanager sends the zero time here for a firing alert. */
  endsAt: timestamp.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).max(128).optional(),
});

/** The webhook body around its alerts, which parseWebhook checks one by one. */
const webhookEnvelopeSchema = z.object({
  version: z.string().optional(),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelSetSchema.default({}),
  commonLabels: labelSetSchema.default({}),
  commonAnnotations: labelSetSchema.default({}),
  externalURL: z.string().optional(),
  alerts: z.array(z.unknown()),
});

/** The Alertmanager webhook body (version 4). Plain object: newer Alertmanagers add fields. */
export const webhookSchema = webhookEnvelopeSchema.extend({ alerts: z.array(webhookAlertSchema) });

/** A parsed webhook body. */
export type WebhookPayload = z.output<typeof webhookSchema>;
/** One alert of a parsed webhook body. */
export type WebhookAlert = z.output<typeof webhookAlertSchema>;

/** parseWebhook's answer: the body, or its first issues and how much was left unchecked. */
export type WebhookParse =
  | { success: true; data: WebhookPayload }
  | {
      success: false;
      /** The first issues found, at most `maxIssues`. */
      error: z.ZodError;
      /** Issues may exist beyond those listed: some were dropped, or alerts were left unchecked. */
      incomplete: boolean;
      /** Alerts not looked at because `maxIssues` issues were found first. */
      uncheckedAlerts: number;
    };

/** The number of alerts a parsed JSON body carries, before any validation (0 when it has no array of them). */
export function alertCount(body: unknown): number {
  return isPlainObject(body) && Array.isArray(body.alerts) ? body.alerts.length : 0;
}

/**
 * Validates a webhook body like webhookSchema, but stops once `maxIssues` issues are found: the envelope first,
 * then the alerts one by one. Rejecting a body costs at most about `maxIssues` issues (each label set reports a
 * bounded number), however many bad alerts it holds; zod alone reports and keeps every one of them.
 */
export function parseWebhook(body: unknown, maxIssues: number): WebhookParse {
  const envelope = webhookEnvelopeSchema.safeParse(body);
  const issues: z.core.$ZodIssue[] = envelope.success ? [] : [...envelope.error.issues];
  const raw = envelope.success ? envelope.data.alerts : isPlainObject(body) && Array.isArray(body.alerts) ? (body.alerts as unknown[]) : [];
  const alerts: WebhookAlert[] = [];
  let checked = 0;
  for (; checked < raw.length && issues.length < maxIssues; checked++) {
    const parsed = webhookAlertSchema.safeParse(raw[checked]);
    if (parsed.success) alerts.push(parsed.data);
    else for (const issue of parsed.error.issues) issues.push({ ...issue, path: ['alerts', checked, ...issue.path] });
  }
  if (envelope.success && issues.length === 0) return { success: true, data: { ...envelope.data, alerts } };
  const uncheckedAlerts = raw.length - checked;
  return {
    success: false,
    error: new z.ZodError(issues.slice(0, maxIssues)),
    incomplete: issues.length > maxIssues || uncheckedAlerts > 0,
    uncheckedAlerts,
  };
}

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
