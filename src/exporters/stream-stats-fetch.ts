import { StreamStatsInvalidError, StreamStatsUnreachableError } from './stream-stats-error.js';

/** `url` without user:password, for messages (inventory URLs may carry API credentials). */
export function displayUrl(url: URL): string {
  if (url.username === '' && url.password === '') return url.href;
  const shown = new URL(url.href);
  shown.username = '';
  shown.password = '';
  return shown.href;
}

/**
 * GETs a stats URL and returns its body. user:password in the URL become Basic auth, because fetch refuses URLs
 * with credentials and MediaMTX's API is commonly protected that way. Rejects with StreamStatsUnreachableError
 * when there is no answer (including `signal` aborting), StreamStatsInvalidError for a non-2xx answer.
 */
export async function fetchStreamStats(doFetch: typeof fetch, url: URL, signal: AbortSignal): Promise<string> {
  const target = new URL(url.href);
  const headers = new Headers();
  if (target.username !== '' || target.password !== '') {
    const credentials = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
    headers.set('authorization', `Basic ${Buffer.from(credentials).toString('base64')}`);
    target.username = '';
    target.password = '';
  }
  const shown = displayUrl(url);
  let response: Response;
  let body: string;
  try {
    response = await doFetch(target, { headers, signal, redirect: 'error' });
    body = await response.text();
  } catch (error) {
    const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    throw new StreamStatsUnreachableError(`stream stats at ${shown} did not answer: ${reason}`, { cause: error });
  }
  if (!response.ok) {
    throw new StreamStatsInvalidError(`stream stats at ${shown} answered HTTP ${response.status}: ${body.slice(0, 200)}`);
  }
  return body;
}
