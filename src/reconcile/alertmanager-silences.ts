import { z } from 'zod';
import { AppError, errorCodes } from '../core/errors/index.js';
import type { AlertmanagerMatcher } from '../core/silence-matchers.js';
import { createAlertmanagerEndpoint } from './alertmanager-endpoint.js';

/** A silence as posted to `POST /api/v2/silences`; with an `id`, Alertmanager updates that silence. */
export interface PostableSilence {
  id?: string;
  matchers: readonly AlertmanagerMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

const matcherSchema = z.object({ name: z.string(), value: z.string(), isRegex: z.boolean(), isEqual: z.boolean().default(true) });

/** A silence as `GET /api/v2/silence/{id}` answers (gettableSilence); unknown fields are dropped. */
const gettableSilenceSchema = z.object({
  id: z.string(),
  status: z.object({ state: z.enum(['active', 'pending', 'expired']) }),
  matchers: z.array(matcherSchema),
  startsAt: z.string(),
  endsAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
});

/** A silence one Alertmanager holds. */
export type GettableSilence = z.output<typeof gettableSilenceSchema>;

/** Creates, reads and expires silences on one Alertmanager (v2 API). */
export interface AlertmanagerSilences {
  /** The URL without credentials: a log field and the silence record's `alertmanager`. */
  readonly name: string;
  /** Creates (or, with `id`, updates) a silence; resolves the id Alertmanager gave it. */
  post(silence: PostableSilence, signal?: AbortSignal): Promise<string>;
  /** Every silence it holds (active, pending, expired); silences that fail the schema are left out. */
  list(signal?: AbortSignal): Promise<GettableSilence[]>;
  /** The silence `id`, or undefined when this Alertmanager does not know it. */
  get(id: string, signal?: AbortSignal): Promise<GettableSilence | undefined>;
  /** Expires the silence `id`; resolves whether it was still there (an unknown or already expired one is not an error). */
  expire(id: string, signal?: AbortSignal): Promise<'expired' | 'gone'>;
}

/** Creates the silences client of the Alertmanager at `url`; credentials in the URL become a basic-auth header. */
export function createAlertmanagerSilences(options: { url: string; timeoutMs: number; fetch?: typeof fetch }): AlertmanagerSilences {
  const endpoint = createAlertmanagerEndpoint(options.url, options.timeoutMs, options.fetch);
  const bad = (what: string) => new AppError(errorCodes.ALERTMANAGER_BAD_RESPONSE, `Alertmanager at ${endpoint.base} ${what}`);
  const get = async (id: string, signal?: AbortSignal) => {
    const body = await endpoint.json(`/api/v2/silence/${encodeURIComponent(id)}`, { signal, absentOn404: true });
    if (body === undefined) return undefined;
    const silence = gettableSilenceSchema.safeParse(body);
    if (!silence.success) throw bad(`answered an unexpected silence: ${z.prettifyError(silence.error)}`);
    return silence.data;
  };
  return {
    name: endpoint.base,
    async post(silence, signal) {
      const body = await endpoint.json('/api/v2/silences', { method: 'POST', body: silence, signal });
      const created = z.object({ silenceID: z.string().min(1) }).safeParse(body);
      if (!created.success) throw bad('created a silence without answering its id');
      return created.data.silenceID;
    },
    async list(signal) {
      const body = await endpoint.json('/api/v2/silences', { signal });
      if (!Array.isArray(body)) throw bad('listed silences as a non-array');
      return body.flatMap((item) => {
        const silence = gettableSilenceSchema.safeParse(item);
        return silence.success ? [silence.data] : [];
      });
    },
    get,
    async expire(id, signal) {
      const path = `/api/v2/silence/${encodeURIComponent(id)}`;
      try {
        await endpoint.json(path, { method: 'DELETE', signal });
        return 'expired';
      } catch (error) {
        // Alertmanager answers 404 to an unknown silence and 500 to one already expired: both are what was asked.
        const silence = await get(id, signal);
        if (silence === undefined) return 'gone';
        if (silence.status.state === 'expired') return 'expired';
        throw error;
      }
    },
  };
}
