import { z } from 'zod';
import { defineAction, permanentError, transientError } from '../core/action.js';
import { bodyEscape, bodyFormat, checkHttpTemplates, formContentType, writtenContentType } from './http-body.js';

const statusRange = z.union([z.number().int().min(100).max(599), z.string().regex(/^[1-5]xx$/, 'a status code or 2xx-style class')]);

const headerName = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be an HTTP header name');

const httpSchema = z
  .strictObject({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('POST'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    headers: z
      // Names must be HTTP tokens: otherwise `new Headers` throws a TypeError at run time, which is retried as transient.
      // Values are byte strings: a character above U+00FF makes fetch throw at run time, which a retry cannot fix.
      .record(
        headerName,
        z
          .string()
          .refine((value) => !/[\r\n\0]/.test(value), 'must not contain CR, LF or NUL')
          .refine((value) => !/[\u0100-\uffff]/.test(value), 'must be Latin-1 text (no character above U+00FF)'),
      )
      .default({}),
    /** Header values that are secrets (API keys), given by reference and read when the step runs, never in YAML. */
    secretHeaders: z
      .record(
        headerName,
        z.union([
          z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name') }),
          z.strictObject({ file: z.string().min(1) }),
        ]),
      )
      .default({}),
    /**
     * An object is sent as JSON (values stay data: they never change the JSON's shape). A string is sent as written,
     * its values escaped for its Content-Type (form-encoded, JSON-escaped).
     */
    body: z.unknown().optional(),
    /** Form fields, sent as application/x-www-form-urlencoded (serialized with URLSearchParams). */
    form: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    expectStatus: z.array(statusRange).default(['2xx']),
    maxResponseBytes: z
      .number()
      .int()
      .positive()
      .max(1024 * 1024)
      .default(8 * 1024), // 8 KiB
  })
  .superRefine((params, ctx) => {
    if (params.form === undefined) return;
    if (params.body !== undefined) ctx.addIssue({ code: 'custom', path: ['form'], message: 'give either body or form, not both' });
    const contentType = writtenContentType(params.headers);
    if (contentType !== undefined && bodyFormat(contentType) !== 'form') {
      ctx.addIssue({
        code: 'custom',
        path: ['form'],
        message: `form: is sent as ${formContentType}, but the Content-Type header says ${contentType}`,
      });
    }
  });

function statusMatches(status: number, expected: readonly (number | string)[]): boolean {
  return expected.some((item) => (typeof item === 'number' ? item === status : String(status)[0] === item[0]));
}

/**
 * Reads at most `limit` bytes of the body and cancels the rest: an endless or huge answer must neither hold
 * the step until its timeout nor fill memory.
 */
async function readBounded(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let cut = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > limit) {
      cut = true;
      await reader.cancel();
      break;
    }
  }
  const bytes = Buffer.concat(chunks);
  return cut ? `${bytes.subarray(0, limit).toString()}[…cut at ${limit} bytes]` : bytes.toString();
}

/** Reads a secret by reference ({ env } or { file }); throws with a readable message when it cannot. */
export type SecretRefReader = (reference: { env: string } | { file: string }) => string;

/** Calls an HTTP API and checks the status. */
export function createHttpAction(options: { fetch?: typeof fetch; readSecret?: SecretRefReader } = {}) {
  const doFetch = options.fetch ?? fetch;
  return defineAction({
    name: 'http',
    description: 'Call an HTTP API and check the status.',
    schema: httpSchema,
    defaultTimeoutMs: 30_000,
    escapesFor: (raw) => ({ url: 'url', body: bodyEscape(raw) }),
    checkRaw: checkHttpTemplates,
    async run(params, { signal }) {
      const headers = new Headers(params.headers);
      for (const [name, reference] of Object.entries(params.secretHeaders)) {
        if (!options.readSecret) throw permanentError('secretHeaders need a secret reader (remediator serve provides one)');
        try {
          headers.set(name, options.readSecret(reference));
        } catch (error) {
          throw permanentError(`secret header ${name}: ${(error as Error).message}`, error);
        }
      }
      let body: string | undefined;
      if (params.form !== undefined) {
        body = new URLSearchParams(Object.entries(params.form).map(([name, value]): [string, string] => [name, String(value)])).toString();
        if (!headers.has('content-type')) headers.set('content-type', formContentType);
      } else if (typeof params.body === 'string') body = params.body;
      else if (params.body !== undefined) {
        body = JSON.stringify(params.body);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
      let response: Response;
      try {
        response = await doFetch(params.url, { method: params.method, headers, body: body ?? null, signal, redirect: 'manual' });
      } catch (error) {
        if (signal.aborted) throw error;
        throw transientError(`${params.method} ${params.url} failed: ${(error as Error).message}`, error);
      }
      const output = { status: response.status, body: await readBounded(response, params.maxResponseBytes) };
      if (statusMatches(response.status, params.expectStatus)) return output;
      const message = `${params.method} ${params.url} answered ${response.status}, expected ${params.expectStatus.join(' or ')}`;
      // 5xx, 408 and 429 may pass; any other unexpected status will not change by asking again.
      if (response.status >= 500 || response.status === 408 || response.status === 429) throw transientError(message);
      throw permanentError(message);
    },
  });
}
