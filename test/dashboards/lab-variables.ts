import { VariableType } from '@grafana/grafana-foundation-sdk/dashboard';
import type { GrafanaDashboard } from '../../tools/dashboards/dashboard-kit.js';

/**
 * What Grafana puts for its own variables, for a 5-minute range at 1-minute resolution: the lab scrapes every
 * second, and the panels with `increase(…[$__interval])` have a 1m minimum interval.
 */
export const grafanaBuiltins: Readonly<Record<string, string>> = {
  __rate_interval: '1m',
  __interval: '1m',
  __interval_ms: '60000',
  __range: '5m',
  __range_s: '300',
  __range_ms: '300000',
};

/** The range the lab test queries over, in seconds (matches `$__range`). */
export const labRangeSeconds = 300;

/** The template variables of a dashboard other than `datasource`: each is sent as its "All" value, `.*`. */
export function variableValues(dashboard: GrafanaDashboard): Record<string, string> {
  const values: Record<string, string> = { ...grafanaBuiltins };
  for (const variable of dashboard.templating.list ?? [])
    if (variable.type === VariableType.Query) values[variable.name] = variable.allValue ?? '.*';
  return values;
}
