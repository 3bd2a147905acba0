import { z } from 'zod';
import { AppError, errorCodes } from '../core/errors/index.js';

const sample = z.tuple([z.number(), z.string()]);

const queryResponseSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sample })) }),
      z.object({
        resultType: z.literal('matrix'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(sample) })),
      }),
      z.object({ resultType: z.literal('scalar'), result: sample }),
      z.object({ resultType: z.literal('string'), result: sample }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

/** Prometheus API error types that may pass on retry (see its web/api/v1 errorType values). */
const transientErrorTypes = new Set(['timeout', 'canceled', 'internal', 'unavailable']);

/** The data of a successful instant query. */
export type QueryData = Extract<z.output<typeof queryResponseSchema>, { status: 'success' }>['data'];

/** A Prometheus HTTP API client for instant queries. */
export interface PrometheusClient {
  readonly baseUrl: string;
  query(expression: string, signal?: AbortSignal): Promise<QueryData>;
}

/**
 * Creates a client for `baseUrl` (e.g. http://127.0.0.1:9090). With `clock`, every query is evaluated at the time it
 * answers (the playbook simulator's controlled clock); without, at Prometheus's now.
 */
export function createPrometheusClient(options: {
  baseUrl: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  clock?: () => Date;
}): PrometheusClient {
  const doFetch = options.fetch ?? fetch;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  return {
    baseUrl,
    async query(expression, signal) {
      const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
      let response: Response;
      try {
        response = await doFetch(`${baseUrl}/api/v1/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            query: expression,
            ...(options.clock === undefined ? {} : { time: (options.clock().getTime() / 1000).toFixed(3) }),
          }),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new AppError(errorCodes.PROMETHEUS_UNAVAILABLE, `Prometheus at ${baseUrl} is unreachable: ${(error as Error).message}`, {
          cause: error,
        });
      }
      let body: unknown;
      try {
        body = await response.json();
      } catch (error) {
        // Prometheus answers 503 "Service Unavailable" (plain text) while starting up or stopping, as do proxies in
        // front of it: that may pass, so it is "unavailable" (polled on), not a bad response (permanent).
        const code = response.status >= 500 ? errorCodes.PROMETHEUS_UNAVAILABLE : errorCodes.PROMETHEUS_BAD_RESPONSE;
        throw new AppError(code, `Prometheus answered ${response.status} without JSON`, { cause: error });
      }
      const parsed = queryResponseSchema.safeParse(body);
      if (!parsed.success)
        throw new AppError(errorCodes.PROMETHEUS_BAD_RESPONSE, `unexpected Prometheus response: ${z.prettifyError(parsed.error)}`);
      if (parsed.data.status === 'error') {
        // A timeout, an overloaded or internal error may pass; a bad query or bad data will not.
        const transient = response.status >= 500 || transientErrorTypes.has(parsed.data.errorType);
        throw new AppError(
          transient ? errorCodes.PROMETHEUS_UNAVAILABLE : errorCodes.PROMETHEUS_BAD_RESPONSE,
          `Prometheus ${transient ? 'failed' : 'rejected'} the query (${parsed.data.errorType}): ${parsed.data.error}`,
        );
      }
      return parsed.data.data;
    },
  };
}

/** True when a query result counts as "true": a non-empty vector/matrix, or a non-zero scalar. */
export function isTruthy(data: QueryData): boolean {
  if (data.resultType === 'scalar') return Number(data.result[1]) !== 0;
  if (data.resultType === 'string') return data.result[1] !== '';
  return data.result.length > 0;
}
