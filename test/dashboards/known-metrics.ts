import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { exporterMetrics } from '../../src/exporters/metric-catalogue.js';
import { createMetrics } from '../../src/metrics/create-metrics.js';

/** Series Prometheus makes itself: rule states and scrape health. */
export const prometheusMetrics = ['ALERTS', 'ALERTS_FOR_STATE', 'up'] as const;

/**
 * BullMQ's own queue metrics: `remediator serve` appends `queue.exportPrometheusMetrics()` to /metrics
 * (src/http/create-app.ts), outside prom-client's registry.
 */
export const bullmqMetrics = ['bullmq_job_count', 'bullmq_job_completed_total', 'bullmq_job_failed_total'] as const;

/** Where each metric the tree declares comes from: the exporter catalogue, remediator's registry, BullMQ, a recording rule, Prometheus. */
export async function declaredMetrics(root: string): Promise<Map<string, string>> {
  const declared = new Map<string, string>();
  for (const name of Object.keys(exporterMetrics)) declared.set(name, 'src/exporters/metric-catalogue.ts');
  const registry = new Registry();
  createMetrics({ registry, defaultMetrics: false });
  for (const metric of await registry.getMetricsAsJSON()) {
    const names =
      metric.type.toString() === 'histogram' ? ['_bucket', '_sum', '_count'].map((suffix) => metric.name + suffix) : [metric.name];
    for (const name of names) declared.set(name, 'src/metrics/create-metrics.ts');
  }
  for (const name of bullmqMetrics) declared.set(name, 'BullMQ');
  for (const file of (await readdir(join(root, 'rules'))).filter((name) => /\.ya?ml$/.test(name)).sort()) {
    const rules = parse(await readFile(join(root, 'rules', file), 'utf8')) as { groups?: { rules?: { record?: string }[] }[] } | null;
    for (const group of rules?.groups ?? [])
      for (const rule of group.rules ?? []) if (rule.record) declared.set(rule.record, `rules/${file}`);
  }
  for (const name of prometheusMetrics) declared.set(name, 'Prometheus');
  return declared;
}
