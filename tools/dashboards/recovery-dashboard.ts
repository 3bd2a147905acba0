import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarGaugePanel } from '@grafana/grafana-foundation-sdk/bargauge';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
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
  stackedCounts,
  tableLegend,
  tableQuery,
  thresholds,
  valueMappings,
  withQueries,
  type GrafanaDashboard,
} from './dashboard-kit.js';
import { withDrillRow } from './drill-panels.js';
import { withReconcileRow } from './reconcile-panels.js';

const playbook = 'playbook=~"$playbook"';
/** The run phases, each a histogram labelled playbook and outcome (src/metrics/create-metrics.ts). */
const phases = ['detection', 'dispatch', 'action', 'recovery'] as const;
type Phase = (typeof phases)[number];

/**
 * Mean duration of a phase per playbook over every run the remediator process has seen. Cumulative sums stay
 * right for a playbook's first run, whose series is born with its observation (an increase over the range
 * would read 0 for it); Prometheus keeps the history, so over time the line steps at every run.
 */
const meanPhase = (phase: Phase) =>
  `sum by (playbook) (remediator_run_${phase}_seconds_sum{${playbook}}) / sum by (playbook) (remediator_run_${phase}_seconds_count{${playbook}})`;
/** 90th percentile of the recovery time since remediator started (the bucket bound it falls in, interpolated). */
const recoveryP90 = `histogram_quantile(0.9, sum by (playbook, le) (remediator_run_recovery_seconds_bucket{${playbook}}))`;
const objective = `max by (playbook) (remediator_rto_objective_seconds{${playbook}})`;
/** The alerts remediator recovers from (rules/instances.rules.yml): 1 while pending, 2 while firing. */
const incidentAlerts = 'alertname=~"PrimaryUnreachable|InstanceDown|NoHealthyInstances", cluster=~"$cluster"';

/**
 * Recovery / RTO: how many runs, with which outcome; how long recoveries take against each playbook's RTO
 * objective, and which phase the time goes to (detection, dispatch, action); when the incidents were; the
 * reconcile loop that recovers what Alertmanager's notifications lost; and the failover drills.
 */
export function recoveryDashboard(): GrafanaDashboard {
  const builder = remediatorDashboard({
    uid: 'remediator-rto',
    title: 'remediator / Recovery and RTO',
    description:
      "Runs and outcomes, recovery time against each playbook's RTO objective and breaches, the phases of a run (detection → dispatch → action), the incidents' alerts over time, the reconcile loop that recovers what lost notifications missed, and the failover drills (last success, RTO, outcome).",
    variables: [
      labelValuesVariable('playbook', { label: 'Playbook', selector: 'remediator_runs_enqueued_total' }),
      labelValuesVariable('cluster', { label: 'Cluster', selector: 'remediator_member_up' }),
    ],
  });

  builder.withRow(new dashboard.RowBuilder('Runs'));
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Finished runs by outcome')
        .description('Runs that finished in the time range (remediator_runs_total).')
        .reduceOptions(lastValue())
        .textMode(common.BigValueTextMode.ValueAndName)
        .graphMode(common.BigValueGraphMode.None)
        .colorMode(common.BigValueColorMode.Value)
        .overrideByName('failed', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }])
        .overrideByName('succeeded', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'green' } }])
        .decimals(0)
        .span(10)
        .height(5),
      instantQuery(`sum by (outcome) (increase(remediator_runs_total{${playbook}}[$__range]))`, '{{outcome}}'),
    ),
  );
  builder.withPanel(
    problemCountStat({
      title: 'Skipped runs',
      description: 'Runs stopped by a hold, guard, budget or approval in the time range; the reasons are below.',
      count: `sum(increase(remediator_runs_skipped_total{${playbook}}[$__range]))`,
      color: 'orange',
    }),
  );
  builder.withPanel(
    problemCountStat({
      title: 'RTO breaches',
      description: "Runs in the time range that recovered later than their playbook's rto:, or failed.",
      count: `sum(increase(remediator_rto_breaches_total{${playbook}}[$__range]))`,
    }),
  );
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Mean recovery time')
        .description('Alert startsAt → verified recovery, mean per playbook since remediator started.')
        .unit('s')
        .reduceOptions(lastValue())
        .textMode(common.BigValueTextMode.ValueAndName)
        .graphMode(common.BigValueGraphMode.None)
        .span(6)
        .height(5),
      instantQuery(meanPhase('recovery'), '{{playbook}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      stackedCounts('Runs by playbook and outcome'),
      rangeQuery(`sum by (playbook, outcome) (increase(remediator_runs_total{${playbook}}[$__interval]))`, '{{playbook}} {{outcome}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      stackedCounts('Skipped runs by reason'),
      rangeQuery(
        `sum by (playbook, reason) (increase(remediator_runs_skipped_total{${playbook}}[$__interval]))`,
        '{{playbook}} {{reason}}',
      ),
    ),
  );

  builder.withRow(new dashboard.RowBuilder('Recovery time against the RTO objective'));
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Recovery time vs objective')
        .description(
          "Alert startsAt → verified recovery since remediator started: the mean steps at every run. The dashed line is the playbook's rto:.",
        )
        .unit('s')
        .min(0)
        .legend(tableLegend())
        .overrideByRegexp('.* objective$', [
          { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
        ])
        .span(14)
        .height(9),
      rangeQuery(meanPhase('recovery'), '{{playbook}} mean'),
      rangeQuery(recoveryP90, '{{playbook}} p90'),
      rangeQuery(objective, '{{playbook}} objective'),
    ),
  );
  builder.withPanel(
    withQueries(
      new TablePanel()
        .title('RTO per playbook')
        .description('Since remediator started: recoveries, their mean and 90th percentile against the objective, and the breaches.')
        .transformations(mergeColumns({ A: 'Objective', B: 'Mean recovery', C: 'p90 recovery', D: 'Recoveries', E: 'Breaches' }))
        .overrideByName('Objective', [{ id: 'unit', value: 's' }])
        .overrideByName('Mean recovery', [{ id: 'unit', value: 's' }])
        .overrideByName('p90 recovery', [{ id: 'unit', value: 's' }])
        .overrideByName('Recoveries', [{ id: 'decimals', value: 0 }])
        .overrideByName('Breaches', [
          { id: 'decimals', value: 0 },
          { id: 'thresholds', value: thresholds('green', [1, 'red']).build() },
          { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground } },
        ])
        .decimals(2)
        .span(10)
        .height(9),
      tableQuery(objective),
      tableQuery(meanPhase('recovery')),
      tableQuery(recoveryP90),
      tableQuery(`sum by (playbook) (remediator_run_recovery_seconds_count{${playbook}})`),
      tableQuery(`sum by (playbook) (remediator_rto_breaches_total{${playbook}})`),
    ),
  );

  builder.withRow(new dashboard.RowBuilder('Where the time goes'));
  builder.withPanel(
    withQueries(
      new BarGaugePanel()
        .title('Mean phase durations')
        .description(
          "Detection: alert startsAt → webhook. Dispatch: webhook → first step (waiting for the target's lease, a slot, an approval). Action: first step → last step.",
        )
        .unit('s')
        .orientation(common.VizOrientation.Horizontal)
        .displayMode(common.BarGaugeDisplayMode.Gradient)
        .reduceOptions(lastValue())
        .min(0)
        .span(10)
        .height(9),
      ...phases.filter((phase) => phase !== 'recovery').map((phase) => instantQuery(meanPhase(phase), `{{playbook}} ${phase}`)),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Phase durations over time')
        .description('Mean of each phase since remediator started; a step is a run.')
        .unit('s')
        .min(0)
        .legend(tableLegend())
        .span(14)
        .height(9),
      ...phases.map((phase) => rangeQuery(meanPhase(phase), `{{playbook}} ${phase}`)),
    ),
  );

  builder.withRow(new dashboard.RowBuilder('Incidents'));
  builder.withPanel(
    withQueries(
      new StateTimelinePanel()
        .title('Incident timeline')
        .description("InstanceDown and NoHealthyInstances per member: pending (the rule's for:), then firing until the member is back.")
        .mappings(valueMappings({ 1: { text: 'pending', color: 'yellow' }, 2: { text: 'firing', color: 'red' } }))
        .showValue(common.VisibilityMode.Never)
        .span(24)
        .height(8),
      rangeQuery(
        `max by (alertname, cluster, instance) (ALERTS{${incidentAlerts}, alertstate="firing"}) * 2 or max by (alertname, cluster, instance) (ALERTS{${incidentAlerts}, alertstate="pending"})`,
        '{{alertname}} {{cluster}} {{instance}}',
      ),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('RTO breaches over time')
        .drawStyle(common.GraphDrawStyle.Bars)
        .fillOpacity(80)
        .interval('1m')
        .decimals(0)
        .thresholds(thresholds('green', [1, 'red']))
        .thresholdsStyle(dashedThresholds())
        .span(24)
        .height(6),
      rangeQuery(`sum by (playbook) (increase(remediator_rto_breaches_total{${playbook}}[$__interval]))`, '{{playbook}}'),
    ),
  );

  // Last, so the panels above keep their ids (and their viewPanel= links).
  withReconcileRow(builder, 'cluster=~"$cluster"');
  withDrillRow(builder, 'cluster=~"$cluster"');
  return buildDashboard(builder);
}
