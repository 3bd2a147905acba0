import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as GaugePanel } from '@grafana/grafana-foundation-sdk/gauge';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TextPanel, TextMode } from '@grafana/grafana-foundation-sdk/text';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import {
  buildDashboard,
  dashedThresholds,
  instantQuery,
  labelValuesVariable,
  problemCountStat,
  lastValue,
  mergeColumns,
  rangeQuery,
  remediatorDashboard,
  tableLegend,
  tableQuery,
  thresholds,
  valueMappings,
  withQueries,
  type GrafanaDashboard,
} from './dashboard-kit.js';

/** Sloth's labels select one SLO; the `service` and `slo` variables filter them. */
const slo = 'sloth_service=~"$service", sloth_slo=~"$slo"';
const bySlo = 'by (sloth_service, sloth_slo)';
const sloLegend = '{{sloth_service}} / {{sloth_slo}}';
/** The alerts generated with the SLO rules (rules/slo.rules.yml): Sloth keeps its sloth_* labels on them. */
const sloAlerts = `alertname=~"SLO.*", ${slo}`;

/** Burn rate over a window: the window's error ratio divided by the error budget (1 − objective). 1 spends the budget exactly over the period. */
const burnRate = (window: string) =>
  `max ${bySlo} (slo:sli_error:ratio_rate${window}{${slo}}) / max ${bySlo} (slo:error_budget:ratio{${slo}})`;
const burnWindows = ['5m', '1h', '6h', '1d'] as const;

/** Multiwindow burn-rate thresholds (Google SRE workbook): 14.4 pages over 1h, 6 over 6h, 1 spends the budget by the period's end. */
const burnThresholds = () => thresholds('green', [1, 'yellow'], [6, 'orange'], [14.4, 'red']);
const budgetThresholds = () => thresholds('red', [0, 'orange'], [0.25, 'yellow'], [0.5, 'green']);

/**
 * SLO overview: is each service within its objective, how much error budget is left, and how fast is it
 * burning? Built on the Sloth-compatible recording rules of rules/slo.rules.yml.
 */
export function sloDashboard(): GrafanaDashboard {
  const builder = remediatorDashboard({
    uid: 'remediator-slo',
    title: 'remediator / SLO overview',
    description:
      'Per service and SLO: objective, SLI over the period, error budget remaining, burn rates and the SLO alerts (Sloth-compatible rules in rules/slo.rules.yml).',
    variables: [
      labelValuesVariable('service', { label: 'Service', selector: 'slo:objective:ratio', labelName: 'sloth_service' }),
      labelValuesVariable('slo', { label: 'SLO', selector: 'slo:objective:ratio{sloth_service=~"$service"}', labelName: 'sloth_slo' }),
    ],
  });

  builder.withPanel(
    new TextPanel()
      .title('How to read this dashboard')
      .mode(TextMode.Markdown)
      .content(
        'The **SLI** is the share of good events over the SLO period (30 days); the **error budget** is what the objective allows to fail. ' +
          'A **burn rate** of 1 spends the budget exactly by the end of the period; 14.4 over 1 hour (and 5 minutes) pages, 6 over 6 hours too, ' +
          '1 over 3 days opens a ticket. Negative budget remaining means the objective is already missed for the period.',
      )
      .span(24)
      .height(3),
  );

  builder.withRow(new dashboard.RowBuilder('Objectives and error budgets'));
  builder.withPanel(
    withQueries(
      new TablePanel()
        .title('SLOs')
        .description('One row per service and SLO, as of the end of the time range.')
        .transformations(
          mergeColumns({ A: 'Objective', B: 'SLI (30d)', C: 'Error budget remaining', D: 'Burn rate now', E: 'Burn rate (30d)' }),
        )
        .overrideByName('Objective', [
          { id: 'unit', value: 'percentunit' },
          { id: 'decimals', value: 3 },
        ])
        .overrideByName('SLI (30d)', [
          { id: 'unit', value: 'percentunit' },
          { id: 'decimals', value: 3 },
        ])
        .overrideByName('Error budget remaining', [
          { id: 'unit', value: 'percentunit' },
          { id: 'thresholds', value: budgetThresholds().build() },
          { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground } },
        ])
        .overrideByName('Burn rate now', [
          { id: 'thresholds', value: burnThresholds().build() },
          { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorText } },
        ])
        .overrideByName('Burn rate (30d)', [
          { id: 'thresholds', value: burnThresholds().build() },
          { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorText } },
        ])
        .decimals(2)
        .span(24)
        .height(7),
      tableQuery(`max ${bySlo} (slo:objective:ratio{${slo}})`),
      tableQuery(`1 - max ${bySlo} (slo:sli_error:ratio_rate30d{${slo}})`),
      tableQuery(`max ${bySlo} (slo:period_error_budget_remaining:ratio{${slo}})`),
      tableQuery(`max ${bySlo} (slo:current_burn_rate:ratio{${slo}})`),
      tableQuery(`max ${bySlo} (slo:period_burn_rate:ratio{${slo}})`),
    ),
  );
  builder.withPanel(
    withQueries(
      new GaugePanel()
        .title('Error budget remaining')
        .description("Share of the period's error budget not yet spent (1 = untouched, 0 = spent).")
        .unit('percentunit')
        .min(0)
        .max(1)
        .thresholds(budgetThresholds())
        .reduceOptions(lastValue())
        .span(12)
        .height(7),
      instantQuery(`max ${bySlo} (slo:period_error_budget_remaining:ratio{${slo}})`, sloLegend),
    ),
  );
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('SLI over the SLO period (30d)')
        .description('1 − error ratio over 30 days, next to the objective.')
        .unit('percentunit')
        .decimals(3)
        .reduceOptions(lastValue())
        .textMode(common.BigValueTextMode.ValueAndName)
        .colorMode(common.BigValueColorMode.None)
        .graphMode(common.BigValueGraphMode.Area)
        .span(12)
        .height(7),
      rangeQuery(`1 - max ${bySlo} (slo:sli_error:ratio_rate30d{${slo}})`, `${sloLegend} SLI`),
      rangeQuery(`max ${bySlo} (slo:objective:ratio{${slo}})`, `${sloLegend} objective`),
    ),
  );

  builder.withRow(new dashboard.RowBuilder('Burn rates'));
  builder.withPanel(
    withQueries(
      new TablePanel()
        .title('Burn rate by window')
        .description('Error ratio over the window ÷ error budget. 14.4 over 1h pages, 6 over 6h pages, 1 over 1d and 3d opens a ticket.')
        .transformations(mergeColumns(Object.fromEntries(burnWindows.map((window, index) => [String.fromCharCode(65 + index), window]))))
        .thresholds(burnThresholds())
        .cellOptions({ type: common.TableCellDisplayMode.ColorText })
        .decimals(2)
        .span(8)
        .height(8),
      ...burnWindows.map((window) => tableQuery(burnRate(window))),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Burn rate (5m, 1h, 6h, 1d)')
        .description('Dashed lines: 1 (budget spent by the end of the period), 6 and 14.4 (page).')
        .thresholds(burnThresholds())
        .thresholdsStyle(dashedThresholds())
        .legend(tableLegend())
        .min(0)
        .span(16)
        .height(8),
      ...burnWindows.map((window) => rangeQuery(burnRate(window), `${sloLegend} ${window}`)),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Error budget remaining over time')
        .unit('percentunit')
        .thresholds(budgetThresholds())
        .thresholdsStyle(dashedThresholds())
        .legend(tableLegend())
        .span(12)
        .height(8),
      rangeQuery(`max ${bySlo} (slo:period_error_budget_remaining:ratio{${slo}})`, sloLegend),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Error ratio (5m) against the error budget')
        .description('The short-window error ratio; above the budget line the SLO burns faster than it may.')
        .unit('percentunit')
        .legend(tableLegend())
        .min(0)
        .span(12)
        .height(8),
      rangeQuery(`max ${bySlo} (slo:sli_error:ratio_rate5m{${slo}})`, `${sloLegend} errors (5m)`),
      rangeQuery(`max ${bySlo} (slo:error_budget:ratio{${slo}})`, `${sloLegend} budget`),
    ),
  );

  builder.withRow(new dashboard.RowBuilder('SLO alerts'));
  builder.withPanel(problemCountStat({ title: 'SLO alerts firing', count: `count(ALERTS{${sloAlerts}, alertstate="firing"})` }).height(7));
  builder.withPanel(
    withQueries(
      new TablePanel()
        .title('Firing SLO alerts')
        .transformations(mergeColumns({}, ['Value', '__name__', 'alertstate']))
        .span(20)
        .height(7),
      tableQuery(`ALERTS{${sloAlerts}, alertstate="firing"}`),
    ),
  );
  builder.withPanel(
    withQueries(
      new StateTimelinePanel()
        .title('SLO alert history')
        .description('Pending, then firing, per SLO alert over the time range.')
        .mappings(valueMappings({ 1: { text: 'pending', color: 'yellow' }, 2: { text: 'firing', color: 'red' } }))
        .showValue(common.VisibilityMode.Never)
        .span(24)
        .height(7),
      rangeQuery(
        `max by (alertname, sloth_service, sloth_slo, sloth_severity) (ALERTS{${sloAlerts}, alertstate="firing"}) * 2 or max by (alertname, sloth_service, sloth_slo, sloth_severity) (ALERTS{${sloAlerts}, alertstate="pending"})`,
        '{{alertname}} {{sloth_service}}/{{sloth_slo}} {{sloth_severity}}',
      ),
    ),
  );
  return buildDashboard(builder);
}
