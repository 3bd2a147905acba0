import { z } from 'zod';
import { AppError, errorCodes } from '../core/errors/index.js';
import { labelSetSchema } from '../core/label-set.js';
import { createAlertmanagerEndpoint } from './alertmanager-endpoint.js';

/** One alert as Alertmanager's `GET /api/v2/alerts` lists it (gettableAlert); unknown fields are dropped. */
const listedAlertSchema = z.object({
  labels: labelSetSchema,
  annotations: labelSetSchema.default({}),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1).max(128),
  status: z.object({ state: z.enum(['active', 'suppressed', 'unprocessed']) }),
  receivers: z.array(z.object({ name: z.string() })).default([]),
});

/** An alert Alertmanager holds (firing: it drops resolved ones from the list). */
export type ListedAlert = z.output<typeof listedAlertSchema>;

const statusSchema = z.object({ uptime: z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'must be a date-time') });

/** Reads one Alertmanager's state over its v2 API. */
export interface AlertmanagerClient {
  /** The URL without credentials: a metric label and a log field. */
  readonly name: string;
  /**
   * Every alert it holds (active, silenced, inhibited, unprocessed), optionally only those routed to a receiver
   * matching `receiver` (a regular expression, as Alertmanager's own `receiver` filter). Alerts that fail the
   * schema are returned apart, so one odd alert does not hide the others.
   */
  listAlerts(signal?: AbortSignal): Promise<{ alerts: ListedAlert[]; invalid: number }>;
  /** When this Alertmanager process started: a fresh one does not yet know every firing alert. */
  startedAt(signal?: AbortSignal): Promise<number>;
}

/** Creates a client for `url` (http(s)://host:port[/prefix]); credentials in the URL become a basic-auth header. */
export function createAlertmanagerClient(options: {
  url: string;
  receiver?: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}): AlertmanagerClient {
  const endpoint = createAlertmanagerEndpoint(options.url, options.timeoutMs, options.fetch);
  const { base } = endpoint;

  const get = (path: string, signal: AbortSignal | undefined): Promise<unknown> => endpoint.json(path, { signal });

  return {
    name: base,
    async listAlerts(signal) {
      const query = new URLSearchParams({ active: 'true', silenced: 'true', inhibited: 'true', unprocessed: 'true' });
      if (options.receiver !== undefined) query.set('receiver', options.receiver);
      const body = await get(`/api/v2/alerts?${query.toString()}`, signal);
      if (!Array.isArray(body))
        throw new AppError(errorCodes.ALERTMANAGER_BAD_RESPONSE, `Alertmanager at ${base} listed alerts as a non-array`);
      const alerts: ListedAlert[] = [];
      let invalid = 0;
      for (const item of body) {
        const alert = listedAlertSchema.safeParse(item);
        if (alert.success) alerts.push(alert.data);
        else invalid++;
      }
      return { alerts, invalid };
    },
    async startedAt(signal) {
      const status = statusSchema.safeParse(await get('/api/v2/status', signal));
      if (!status.success)
        throw new AppError(errorCodes.ALERTMANAGER_BAD_RESPONSE, `unexpected Alertmanager status: ${z.prettifyError(status.error)}`);
      return Date.parse(status.data.uptime);
    },
  };
}
