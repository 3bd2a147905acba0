import { readYamlSource, type SourceProblem } from '../../src/sources/index.js';
import type { ProjectFile } from './project-files.js';

/**
 * The metric families of the monitoring stack that prometheus.yml scrapes: a job named `prometheus` or a target on
 * port 9090 is Prometheus scraping itself (`prometheus_*`); a job whose name contains `alertmanager` or a target on
 * port 9093 is Alertmanager (`alertmanager_*`). Their go_*, process_* and promhttp_* series are not included:
 * remediator's process metrics carry the `remediator_` prefix, and a bare `process_*` in a rule is more often a
 * mistake for it than a query about Prometheus's own process (declare it in lint.yaml if it is meant).
 */
export function scrapedStackPrefixes(file: ProjectFile | undefined): { prefixes: string[]; problems: SourceProblem[] } {
  if (file === undefined) return { prefixes: [], problems: [] };
  const parsed = readYamlSource(file.path, file.text, 'document');
  if (!parsed.success) return { prefixes: [], problems: parsed.problems };
  const config = parsed.document.value;
  const scrapeConfigs = typeof config === 'object' && config !== null ? (config as { scrape_configs?: unknown }).scrape_configs : undefined;
  const prefixes = new Set<string>();
  for (const raw of Array.isArray(scrapeConfigs) ? (scrapeConfigs as unknown[]) : []) {
    const job = typeof raw === 'object' && raw !== null ? (raw as { job_name?: unknown; static_configs?: unknown }) : {};
    const name = typeof job.job_name === 'string' ? job.job_name : '';
    const targets = (Array.isArray(job.static_configs) ? (job.static_configs as unknown[]) : []).flatMap((entry) => {
      const list = typeof entry === 'object' && entry !== null ? (entry as { targets?: unknown }).targets : undefined;
      return Array.isArray(list) ? list.filter((target): target is string => typeof target === 'string') : [];
    });
    if (name === 'prometheus' || targets.some((target) => target.endsWith(':9090'))) prefixes.add('prometheus_');
    if (/alertmanager/i.test(name) || targets.some((target) => target.endsWith(':9093'))) prefixes.add('alertmanager_');
  }
  return { prefixes: [...prefixes], problems: [] };
}
