import { errorMessage } from '../../core/errors/index.js';
import { isTruthy, type PrometheusClient, type QueryData } from '../../promql/prometheus-client.js';
import type { PlaybookGuard } from '../../core/playbook.js';
import { renderString, type TemplateContext } from '../../core/template/template.js';

/** What one guard found; recorded in the run. */
export interface GuardRecord {
  name: string;
  /** The query as sent, after templating. */
  query: string;
  expect: 'true' | 'false';
  /** passed / failed: the condition; error: Prometheus unreachable or the query failed. */
  status: 'passed' | 'failed' | 'error';
  /** With status error and onError: proceed, the run went on without this guard. */
  ignored?: boolean;
  /** The result, shortened to what a person reads: each series' labels and value. */
  result?: { metric: Record<string, string>; value: string }[] | string;
  error?: string;
  at: string;
}

/** The verdict of all guards of a run. */
export interface GuardVerdict {
  pass: boolean;
  records: GuardRecord[];
  /** Why the run must not act (the first failing guard, with its result). */
  reason?: string;
}

const maxSeriesKept = 10;

function summarize(data: QueryData): NonNullable<GuardRecord['result']> {
  if (data.resultType === 'scalar' || data.resultType === 'string') return data.result[1];
  if (data.resultType === 'vector')
    return data.result.slice(0, maxSeriesKept).map((series) => ({ metric: series.metric, value: series.value[1] }));
  return data.result.slice(0, maxSeriesKept).map((series) => ({ metric: series.metric, value: series.values.at(-1)?.[1] ?? '' }));
}

/**
 * Evaluates every guard (all of them, so the run records the whole picture, in the playbook's order) against Prometheus. A guard whose
 * query cannot be answered fails closed unless it says `onError: proceed`.
 */
export async function evaluateGuards(
  guards: readonly PlaybookGuard[],
  context: TemplateContext,
  prometheus: PrometheusClient | undefined,
  options: { signal?: AbortSignal; now?: () => Date } = {},
): Promise<GuardVerdict> {
  const now = options.now ?? (() => new Date());
  // Concurrently: the guards are independent reads, and their time adds to every run's RTO.
  const records = await Promise.all(
    guards.map(async (guard): Promise<GuardRecord> => {
      const base = { name: guard.name, expect: guard.expect };
      let query = guard.query;
      try {
        query = renderString(guard.query, context, 'promql');
        if (!prometheus) throw new Error('PROMETHEUS_URL is not configured');
        const data = await prometheus.query(query, options.signal);
        const passed = isTruthy(data) === (guard.expect === 'true');
        return { ...base, query, status: passed ? 'passed' : 'failed', result: summarize(data), at: now().toISOString() };
      } catch (error) {
        return {
          ...base,
          query,
          status: 'error',
          error: errorMessage(error),
          ...(guard.onError === 'proceed' ? { ignored: true } : {}),
          at: now().toISOString(),
        };
      }
    }),
  );
  const blocking = records.find((record) => record.status === 'failed' || (record.status === 'error' && record.ignored !== true));
  if (!blocking) return { pass: true, records };
  const found =
    blocking.status === 'error'
      ? `could not be evaluated (${blocking.error ?? 'error'})`
      : `returned ${JSON.stringify(blocking.result)}, expected ${blocking.expect === 'true' ? 'a result' : 'no result'}`;
  return { pass: false, records, reason: `guard ${blocking.name} failed: ${blocking.query} ${found}` };
}
