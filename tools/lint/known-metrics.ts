import { Registry } from 'prom-client';
import { exporterMetrics } from '../../src/exporters/metric-catalogue.js';
import { createMetrics } from '../../src/metrics/create-metrics.js';
import { closestName } from './closest-name.js';

/** The metric names an expression may use, by exact name or by prefix. */
export interface KnownMetrics {
  has(name: string): boolean;
  /** True when a `__name__=~"…"` regex selects at least one known metric (or starts inside a known prefix). */
  matches(pattern: string): boolean;
  /** The closest known name, for a typo. */
  closest(name: string): string | undefined;
}

/** Builds the lookup from exact names and prefixes. */
export function createKnownMetrics(names: Iterable<string>, prefixes: Iterable<string> = []): KnownMetrics {
  const exact = new Set(names);
  const starts = [...new Set(prefixes)];
  return {
    has: (name) => exact.has(name) || starts.some((prefix) => name.startsWith(prefix)),
    matches(pattern) {
      let regex: RegExp;
      try {
        regex = new RegExp(`^(?:${pattern})$`);
      } catch {
        return true; // not a JavaScript regex (RE2 differs in corners): nothing can be said
      }
      if ([...exact].some((name) => regex.test(name))) return true;
      const literal = /^[\w:]*/.exec(pattern)?.[0] ?? '';
      return starts.some((prefix) => literal.startsWith(prefix));
    },
    closest: (name) => closestName(name, exact),
  };
}

/** The metrics the exporter produces (src/exporters/metric-catalogue.ts). */
export const exporterMetricNames: readonly string[] = Object.keys(exporterMetrics);

/**
 * BullMQ's own Prometheus metrics, appended to remediator's /metrics (src/http/create-app.ts, `queueMetrics`):
 * not in prom-client's registry, so listed here.
 */
export const bullmqMetricNames: readonly string[] = ['bullmq_job_count', 'bullmq_job_completed_total', 'bullmq_job_failed_total'];

/**
 * Series Prometheus writes itself whatever it scrapes: one set per scrape target (`up`, `scrape_*`, including
 * the ones `--enable-feature=extra-scrape-metrics` adds) and the alerting rules' state (`ALERTS*`).
 */
export const prometheusSyntheticNames: readonly string[] = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
  'scrape_timeout_seconds',
  'scrape_sample_limit',
  'scrape_body_size_bytes',
  'ALERTS',
  'ALERTS_FOR_STATE',
];

/**
 * remediator's own metrics as Prometheus stores them: every metric createMetrics registers, prom-client's default
 * process/nodejs metrics (prefix `remediator_`), a histogram as its `_bucket`, `_sum` and `_count` series and a
 * summary as its quantiles, `_sum` and `_count`; plus BullMQ's.
 */
export function remediatorMetricNames(registry: Registry = new Registry()): string[] {
  createMetrics({ registry });
  const names = registry.getMetricsAsArray().flatMap((metric) => {
    const type = String(metric.type);
    if (type === 'histogram') return ['_bucket', '_sum', '_count'].map((suffix) => metric.name + suffix);
    if (type === 'summary') return [metric.name, ...['_sum', '_count'].map((suffix) => metric.name + suffix)];
    return [metric.name];
  });
  return [...names, ...bullmqMetricNames];
}
