import type { Panel, RowPanel } from '@grafana/grafana-foundation-sdk/dashboard';
import type { GrafanaDashboard } from './dashboard-kit.js';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { parsePromql } from '../../src/core/promql/parse-promql.js';

/** One PromQL query of a panel, with where it comes from. */
export interface PanelTarget {
  dashboard: string;
  panel: string;
  panelType: string;
  refId: string;
  expr: string;
  /** Evaluated once at the end of the range (stats, tables); otherwise drawn over the range. */
  instant: boolean;
  datasource: DataSourceRef | undefined;
}

/** Every panel of a dashboard, rows' own panels included (rows themselves excluded). */
export function panelsOf(dashboard: GrafanaDashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((panel) => (panel.type === 'row' ? (panel as RowPanel).panels : [panel as Panel]));
}

/** Every query of every panel of a dashboard. */
export function panelTargets(dashboard: GrafanaDashboard): PanelTarget[] {
  return panelsOf(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((target) => {
      const query = target as { refId?: string; expr?: string; instant?: boolean; datasource?: DataSourceRef };
      return {
        dashboard: dashboard.title ?? dashboard.uid ?? '?',
        panel: panel.title ?? '?',
        panelType: panel.type,
        refId: query.refId ?? '?',
        expr: query.expr ?? '',
        instant: query.instant === true,
        datasource: query.datasource,
      };
    }),
  );
}

/** `$name`, `${name}`, `${name:format}` and the deprecated `[[name]]`. */
const variablePattern = /\$\{(\w+)(?::[\w-]+)?\}|\$(\w+)|\[\[(\w+)(?::[\w-]+)?\]\]/g;

/** The names of the Grafana variables an expression uses, e.g. `__rate_interval`, `cluster`. */
export function variablesIn(text: string): string[] {
  return [...new Set([...text.matchAll(variablePattern)].map((match) => match[1] ?? match[2] ?? match[3] ?? ''))];
}

/**
 * Replaces Grafana variables the way Grafana would before sending a query; `values` maps names to text (e.g.
 * `__rate_interval` → `1m`, `cluster` → `.*`). A name without a value throws, so no query goes out half-templated.
 */
export function substituteVariables(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(variablePattern, (whole, braced?: string, plain?: string, bracketed?: string) => {
    const name = braced ?? plain ?? bracketed ?? '';
    const value = values[name];
    if (value === undefined) throw new Error(`no value for the variable ${whole} in: ${text}`);
    return value;
  });
}

/** A vector selector of an expression: `remediator_member_up{role="primary"}` and its metric name. */
export interface VectorSelector {
  text: string;
  metric: string | undefined;
}

/** The vector selectors of a PromQL expression (already substituted), and its syntax errors. */
export function vectorSelectors(expr: string): { selectors: VectorSelector[]; errors: string[] } {
  const { tree, errors } = parsePromql(expr);
  const selectors: VectorSelector[] = [];
  tree.iterate({
    enter(node) {
      if (node.name !== 'VectorSelector') return;
      const name = node.node.getChild('Identifier');
      selectors.push({ text: expr.slice(node.from, node.to), metric: name ? expr.slice(name.from, name.to) : undefined });
      return false;
    },
  });
  return { selectors, errors: errors.map((error) => error.message) };
}
