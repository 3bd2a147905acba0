import { AppError, errorCodes, errorMessage } from '../core/errors/index.js';

/** One call of the admin API, as a CLI command makes it. */
export interface AdminRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** The path under the server, e.g. `/api/holds`. */
  path: string;
  body?: unknown;
  /** Then follow the first run in the answer (`runs[0].jobId`) until it ends, and print it. */
  follow?: boolean;
}

/** The answer: its status and its JSON body (or its text when it is not JSON). */
export interface AdminAnswer {
  status: number;
  body: unknown;
}

/**
 * Calls a running `remediator serve`'s admin API with basic auth, as the CLI commands do (`hold`, `unhold`, `run`,
 * `budget-reset`, `audit`). JSON both ways; the same CSRF rules apply as to any client (no Origin: not cross-site).
 */
export async function sendAdminRequest(
  server: { baseUrl: string; user: string; password: string; fetch?: typeof fetch; timeoutMs?: number },
  request: AdminRequest,
): Promise<AdminAnswer> {
  const doFetch = server.fetch ?? fetch;
  const url = `${server.baseUrl.replace(/\/+$/, '')}${request.path}`;
  let response: Response;
  try {
    response = await doFetch(url, {
      method: request.method,
      headers: {
        authorization: `Basic ${Buffer.from(`${server.user}:${server.password}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      signal: AbortSignal.timeout(server.timeoutMs ?? 10_000),
    });
  } catch (error) {
    throw new AppError(errorCodes.SERVER_UNREACHABLE, `remediator at ${server.baseUrl} is unreachable: ${unreachableReason(error)}`, {
      cause: error,
    });
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: text };
  }
}

/**
 * fetch's own message is only "fetch failed": the reason is its cause. A certificate the CLI does not trust (a
 * private CA) gets the hint of how to trust it.
 */
function unreachableReason(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (!(cause instanceof Error)) return errorMessage(error);
  const code = (cause as NodeJS.ErrnoException).code ?? '';
  const certificate = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code);
  return `${errorMessage(error)} (${cause.message})${certificate ? '; to trust a private CA, set NODE_EXTRA_CA_CERTS to its PEM file' : ''}`;
}

/** `k=v` pairs (repeated `--label`) as an object; an entry without `=` or with an empty name is an error. */
export function parsePairs(pairs: readonly string[], option: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`${option} ${pair}: expected name=value`);
    result[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return result;
}

/** A run's state as GET /api/runs/:id shows it, as far as following it needs. */
interface FollowedRun {
  state?: string;
  skip?: unknown;
}

/**
 * Polls GET /api/runs/:id until the run is completed or failed (or `timeoutMs` passes), and returns its last view;
 * `ok` only when it completed without being skipped. Bounded: a run that never ends is reported, not waited for.
 */
export async function followRun(
  server: Parameters<typeof sendAdminRequest>[0],
  jobId: string,
  options: { intervalMs?: number; timeoutMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<{ ok: boolean; finished: boolean; run: unknown }> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  for (;;) {
    const answer = await sendAdminRequest(server, { method: 'GET', path: `/api/runs/${encodeURIComponent(jobId)}` });
    const run = answer.body as FollowedRun;
    if (answer.status === 200 && (run.state === 'completed' || run.state === 'failed'))
      return { ok: run.state === 'completed' && run.skip === undefined, finished: true, run };
    if (Date.now() >= deadline) return { ok: false, finished: false, run };
    await sleep(options.intervalMs ?? 1000);
  }
}
