import { AppError, errorCodes, errorMessage } from '../core/errors/index.js';

/** One Alertmanager's HTTP API: its URL without credentials, and requests that carry them as basic auth. */
export interface AlertmanagerEndpoint {
  /** The URL without credentials: a metric label and a log field. */
  readonly base: string;
  /**
   * Sends one request under the timeout (and `signal`) and reads its JSON answer. An unreachable Alertmanager is
   * AppError(ALERTMANAGER_UNAVAILABLE). Any status but 2xx is AppError(ALERTMANAGER_UNAVAILABLE) naming the
   * status and the path (its query left out), except a 404 with `absentOn404` (resolves undefined); an answer that is
   * not JSON is ALERTMANAGER_BAD_RESPONSE.
   */
  json(path: string, init: RequestInit & { absentOn404?: boolean }): Promise<unknown>;
}

/** One request to an Alertmanager: JSON `body` when present. */
export interface RequestInit {
  method?: string;
  body?: unknown;
  signal?: AbortSignal | undefined;
}

/**
 * Creates the endpoint for `url` (http(s)://host:port[/prefix]). Credentials in the URL become a basic-auth header:
 * fetch refuses a URL that carries them, and they must never show in a label or a log line.
 */
export function createAlertmanagerEndpoint(url: string, timeoutMs: number, doFetch: typeof fetch = fetch): AlertmanagerEndpoint {
  const parsed = new URL(url);
  const authorization =
    parsed.username === '' && parsed.password === ''
      ? undefined
      : `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
  parsed.username = '';
  parsed.password = '';
  const base = parsed.toString().replace(/\/+$/, '');
  const request = async (path: string, init: RequestInit): Promise<Response> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      return await doFetch(`${base}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          accept: 'application/json',
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(authorization === undefined ? {} : { authorization }),
        },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
      });
    } catch (error) {
      throw new AppError(errorCodes.ALERTMANAGER_UNAVAILABLE, `Alertmanager at ${base} is unreachable: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  };
  return {
    base,
    async json(path, init) {
      const response = await request(path, init);
      if (response.status === 404 && init.absentOn404 === true) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok) {
        // Alertmanager says why it refused (a silence's matchers, say): the start of its answer goes with the status.
        const said = (await response.text().catch(() => '')).slice(0, 200).trim();
        const request = `${init.method ?? 'GET'} ${path.split('?')[0] ?? path}`;
        throw new AppError(
          errorCodes.ALERTMANAGER_UNAVAILABLE,
          `Alertmanager at ${base} answered ${response.status} to ${request}${said === '' ? '' : `: ${said}`}`,
        );
      }
      // DELETE answers 200 with an empty body.
      const text = await response.text();
      if (text.trim() === '') return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new AppError(errorCodes.ALERTMANAGER_BAD_RESPONSE, `Alertmanager at ${base} answered without JSON`, { cause: error });
      }
    },
  };
}
