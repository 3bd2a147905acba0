import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';

/**
 * The dashboard JSON model that Grafana's file provisioning reads (schema v1). The SDK marks it deprecated in
 * favour of its v2 schema, which only Grafana 12 reads, behind a feature flag: the aliases keep that one
 * decision in one place.
 */
// eslint-disable-next-line @typescript-eslint/no-deprecated -- v1 is what file provisioning reads
export type GrafanaDashboard = dashboard.Dashboard;
/** The SDK's builder of v1 dashboards. */
// eslint-disable-next-line @typescript-eslint/no-deprecated -- v1 is what file provisioning reads
export type GrafanaDashboardBuilder = dashboard.DashboardBuilder;

/** The uid of the provisioned Prometheus (grafana/provisioning/datasources/prometheus.yaml). */
export const provisionedDatasourceUid = 'prometheus';

/** Every panel and query reads through the dashboard's `datasource` variable, so one dashboard serves any Prometheus. */
export const datasourceRef: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** Tag shared by every remediator dashboard; the dashboards' link menu lists them by it. */
export const dashboardTag = 'remediator';

/** The `datasource` template variable: any Prometheus, the provisioned one first. */
export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource')
    .label('Data source')
    .type('prometheus')
    .current({ selected: true, text: 'Prometheus', value: provisionedDatasourceUid });
}

/**
 * A multi-value variable filled by `label_values(<selector>, <label>)`, refreshed with the time range. "All" is
 * sent as `.*`, so queries match it with `label=~"$name"` (which also matches series without the label).
 */
export function labelValuesVariable(
  name: string,
  options: { label: string; selector: string; labelName?: string; description?: string },
): dashboard.QueryVariableBuilder {
  const definition = `label_values(${options.selector}, ${options.labelName ?? name})`;
  const variable = new dashboard.QueryVariableBuilder(name)
    .label(options.label)
    .datasource(datasourceRef)
    .query({ qryType: 1, query: definition, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
    .definition(definition)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ selected: true, text: 'All', value: '$__all' });
  return options.description === undefined ? variable : variable.description(options.description);
}

/** A PromQL query drawn over the time range. */
export function rangeQuery(expr: string, legend?: string): DataqueryBuilder {
  const query = new DataqueryBuilder().datasource(datasourceRef).expr(expr).range();
  return legend === undefined ? query : query.legendFormat(legend);
}

/** A PromQL query evaluated once at the end of the time range (stats, gauges). */
export function instantQuery(expr: string, legend?: string): DataqueryBuilder {
  const query = new DataqueryBuilder().datasource(datasourceRef).expr(expr).instant();
  return legend === undefined ? query : query.legendFormat(legend);
}

/** An instant query returning a table (one row per series, one column per label); for table panels. */
export function tableQuery(expr: string): DataqueryBuilder {
  return instantQuery(expr).format(PromQueryFormat.Table);
}

/** What every SDK panel builder has: a data source and targets. */
interface QueryPanel {
  datasource(datasource: common.DataSourceRef): this;
  withTarget(target: DataqueryBuilder): this;
}

/** Sets the panel's data source to the `datasource` variable and adds the queries as refIds A, B, C… */
export function withQueries<P extends QueryPanel>(panel: P, ...queries: DataqueryBuilder[]): P {
  panel.datasource(datasourceRef);
  queries.forEach((query, index) => panel.withTarget(query.refId(refId(index))));
  return panel;
}

/** The refId of the query at `index`: A, B, C… (Grafana names a table's value columns after them: `Value #A`). */
export function refId(index: number): string {
  return String.fromCharCode(65 + index);
}

/** Threshold steps from a base colour: `thresholds('green', [1, 'red'])` is green below 1, red from 1. */
export function thresholds(base: string, ...steps: [number, string][]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: base }, ...steps.map(([value, color]) => ({ value, color }))]);
}

/** Value → text and colour, e.g. 0 → down (red), 1 → up (green). */
export function valueMappings(entries: Record<string, { text: string; color: string }>): dashboard.ValueMapping[] {
  const options: Record<string, dashboard.ValueMappingResult> = {};
  Object.entries(entries).forEach(([value, result], index) => {
    options[value] = { ...result, index };
  });
  return [{ type: dashboard.MappingType.ValueToText, options }];
}

/** 0/1 health gauges: down in red, up in green. */
export const upDownMappings = (): dashboard.ValueMapping[] =>
  valueMappings({ 0: { text: 'down', color: 'red' }, 1: { text: 'up', color: 'green' } });

/** Reduces a stat/gauge series to its last non-null value. */
export const lastValue = (): common.ReduceDataOptionsBuilder => new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false);

/**
 * A stat counting things that should not happen (skipped runs, breaches, refused webhooks, firing alerts): green
 * at 0, `color` from 1. `count` is a sum or count; `or vector(0)` is added, so none shows 0 rather than "No data".
 */
export function problemCountStat(options: { title: string; description?: string; count: string; color?: string }): StatPanel {
  const panel = new StatPanel()
    .title(options.title)
    .reduceOptions(lastValue())
    .thresholds(thresholds('green', [1, options.color ?? 'red']))
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .decimals(0)
    .span(4)
    .height(5);
  if (options.description !== undefined) panel.description(options.description);
  return withQueries(panel, instantQuery(`${options.count} or vector(0)`));
}

/** Table legend below a time series, with the last and max values: what an incident review reads. */
export const tableLegend = (): common.VizLegendOptionsBuilder =>
  new common.VizLegendOptionsBuilder()
    .displayMode(common.LegendDisplayMode.Table)
    .placement(common.LegendPlacement.Bottom)
    .showLegend(true)
    .calcs(['lastNotNull', 'max']);

/** Stacked bars of counts per minute (`increase(…[$__interval])`), half the width. */
export const stackedCounts = (title: string): TimeseriesPanel =>
  new TimeseriesPanel()
    .title(title)
    .drawStyle(common.GraphDrawStyle.Bars)
    .fillOpacity(80)
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
    .legend(tableLegend())
    .interval('1m')
    .decimals(0)
    .span(12)
    .height(8);

/** Draws the thresholds of a time series as dashed lines (objectives, limits). */
export const dashedThresholds = (): common.GraphThresholdsStyleConfigBuilder =>
  new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed);

/**
 * Joins instant table queries that share their labels into one row per label set, names the value columns
 * (`Value #A` → `columns.A`) and hides the timestamp.
 */
export function mergeColumns(columns: Record<string, string>, hide: string[] = []): dashboard.DataTransformerConfig[] {
  const renameByName = Object.fromEntries(Object.entries(columns).map(([id, name]) => [`Value #${id}`, name]));
  const excludeByName = Object.fromEntries(['Time', ...hide].map((name) => [name, true]));
  return [
    { id: 'merge', options: {} },
    { id: 'organize', options: { excludeByName, renameByName, indexByName: {} } },
  ];
}

/** The link menu to the other remediator dashboards, keeping the time range. */
export const dashboardsLink = (): dashboard.DashboardLinkBuilder =>
  new dashboard.DashboardLinkBuilder('remediator')
    .type(dashboard.DashboardLinkType.Dashboards)
    .tags([dashboardTag])
    .asDropdown(true)
    .keepTime(true)
    .includeVars(false)
    .targetBlank(false);

/** What makes a remediator dashboard: uid, title, tag, time settings, the `datasource` variable and the link menu. */
export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /** Variables after `datasource`, in order. */
  variables: dashboard.QueryVariableBuilder[];
}

/** A dashboard builder with remediator's settings (see GrafanaDashboard for why v1). */
export function remediatorDashboard(spec: DashboardSpec): GrafanaDashboardBuilder {
  // eslint-disable-next-line @typescript-eslint/no-deprecated -- v1 is what file provisioning reads
  const builder = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([dashboardTag])
    .editable()
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-6h', to: 'now' })
    .refresh('30s')
    .link(dashboardsLink())
    .withVariable(datasourceVariable());
  for (const variable of spec.variables) builder.withVariable(variable);
  return builder;
}

/**
 * Builds the dashboard and numbers its panels 1, 2, 3… in layout order (rows included), so panel links
 * (`viewPanel=`) stay stable between generations.
 */
export function buildDashboard(builder: GrafanaDashboardBuilder): GrafanaDashboard {
  const built = builder.build();
  // The SDK puts links in Grafana 12's controls menu; without `placement` they show in the header, on 11 as on 12.
  for (const link of built.links ?? []) delete link.placement;
  let next = 1;
  for (const panel of built.panels ?? []) {
    panel.id = next++;
    if (panel.type === 'row') for (const inner of (panel as dashboard.RowPanel).panels) inner.id = next++;
  }
  return built;
}
