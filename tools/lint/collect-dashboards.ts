import { list, readJsonSource, record, type SourcePath, type SourceProblem } from '../../src/sources/index.js';
import type { LintExpression } from './lint-expression.js';
import type { ProjectFile } from './project-files.js';

/** The PromQL of the dashboards. */
export interface CollectedDashboards {
  readonly expressions: LintExpression[];
  readonly problems: SourceProblem[];
}

/**
 * A datasource that is not Prometheus (Loki's `expr` is LogQL, `__expr__` is Grafana's server-side math): its
 * targets are not PromQL. A datasource given by uid only, or a `${datasource}` variable, is taken as Prometheus.
 */
function isOtherDatasource(datasource: unknown): boolean {
  const fields = record(datasource);
  if (!fields) return false;
  if (fields.uid === '__expr__' || fields.uid === '-- Grafana --') return true;
  return typeof fields.type === 'string' && fields.type !== 'prometheus' && !fields.type.startsWith('$');
}

/**
 * Reads every panel target's `expr` (rows' panels included) and the PromQL of query variables
 * (`label_values(<selector>, label)`, `query_result(<expr>)`) of grafana/dashboards/*.json.
 */
export function collectDashboards(files: readonly ProjectFile[]): CollectedDashboards {
  const collected: CollectedDashboards = { expressions: [], problems: [] };
  for (const file of files) {
    const parsed = readJsonSource(file.path, file.text);
    if (!parsed.success) {
      collected.problems.push(...parsed.problems);
      continue;
    }
    const { document } = parsed;
    const dashboard = record(document.value) ?? {};
    const add = (what: string, text: string, path: SourcePath) => {
      collected.expressions.push({ file: file.path, what, text, variables: 'grafana', lineAt: () => document.position(path)?.line });
    };
    collectPanels(dashboard.panels, ['panels'], add);
    list(dashboard.rows).forEach((row, index) => {
      collectPanels(record(row)?.panels, ['rows', index, 'panels'], add);
    });
    collectVariables(dashboard, add);
  }
  return collected;
}

function collectPanels(panels: unknown, at: SourcePath, add: (what: string, text: string, path: SourcePath) => void): void {
  list(panels).forEach((raw, panelIndex) => {
    const panel = record(raw);
    if (!panel) return;
    const panelPath = [...at, panelIndex];
    const title = typeof panel.title === 'string' && panel.title !== '' ? `panel "${panel.title}"` : `panel ${String(panelIndex)}`;
    list(panel.targets).forEach((rawTarget, targetIndex) => {
      const target = record(rawTarget);
      if (!target || typeof target.expr !== 'string' || target.expr.trim() === '') return;
      if (isOtherDatasource(target.datasource ?? panel.datasource)) return;
      const refId = typeof target.refId === 'string' ? target.refId : String(targetIndex);
      add(`${title} target ${refId}`, target.expr, [...panelPath, 'targets', targetIndex, 'expr']);
    });
    // A collapsed row keeps its panels inside it.
    collectPanels(panel.panels, [...panelPath, 'panels'], add);
  });
}

function collectVariables(dashboard: Record<string, unknown>, add: (what: string, text: string, path: SourcePath) => void): void {
  list(record(dashboard.templating)?.list).forEach((raw, index) => {
    const variable = record(raw);
    if (variable?.type !== 'query' || isOtherDatasource(variable.datasource)) return;
    const nested = record(variable.query);
    const query = typeof variable.query === 'string' ? variable.query : typeof nested?.query === 'string' ? nested.query : undefined;
    if (query === undefined) return;
    const path: SourcePath =
      typeof variable.query === 'string' ? ['templating', 'list', index, 'query'] : ['templating', 'list', index, 'query', 'query'];
    const promql = variableQueryPromql(query);
    if (promql !== undefined) add(`variable ${typeof variable.name === 'string' ? variable.name : String(index)}`, promql, path);
  });
}

/**
 * The PromQL inside a Prometheus variable query: `label_values(up{job="x"}, instance)` → `up{job="x"}`,
 * `query_result(sum(x))` → `sum(x)`. `label_names()`, `label_values(label)` and `metrics(regex)` hold none.
 */
export function variableQueryPromql(query: string): string | undefined {
  const trimmed = query.trim();
  const result = /^query_result\(([\s\S]*)\)$/.exec(trimmed);
  if (result) return result[1];
  const values = /^label_values\(([\s\S]*),\s*[\w.]+\s*\)$/.exec(trimmed);
  return values?.[1];
}
