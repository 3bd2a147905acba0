import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import {
  instantQuery,
  lastValue,
  problemCountStat,
  rangeQuery,
  stackedCounts,
  tableLegend,
  thresholds,
  valueMappings,
  withQueries,
  type GrafanaDashboardBuilder,
} from './dashboard-kit.js';

/** The alert RemediatorReconcileStale's threshold (rules/remediator.rules.yml): no full pass for this long is stale. */
const staleSeconds = 60;
/** Three passes at the default RECONCILE_INTERVAL (5 s) missed: a leader handover (RECONCILE_LEASE_TTL 15 s) stays below. */
const lateSeconds = 15;
/**
 * `time() - 0` when no live process has finished a full pass (the gauge starts at 0): about 1.7e9 s, shown as
 * "never". Any age above 10⁹ s (31 years) can only be that.
 */
const neverSeconds = 1e9;

const leaderMappings = () => valueMappings({ 0: { text: 'standby', color: 'text' }, 1: { text: 'leader', color: 'green' } });
/**
 * Fence runs per inventory cluster since the remediator processes started. A cluster's counter is born with its
 * first fence, which a range `increase()` would not count, so this is the cumulative count; clusters the loop
 * never fenced show 0 (from the exporter's list of clusters) instead of being absent.
 */
const fencesPerCluster = (cluster: string) =>
  `sum by (cluster) (remediator_reconcile_fences_total{${cluster}}) or max by (cluster) (remediator_member_up{${cluster}}) * 0`;

/**
 * The reconcile loop (src/reconcile/, `remediator serve`): which process leads it, whether its passes succeed,
 * what it recovered that Alertmanager's notifications lost, the second primaries it fenced, and the
 * Alertmanagers it reads. `cluster` is the dashboard's cluster matcher, e.g. `cluster=~"$cluster"`.
 */
export function withReconcileRow(builder: GrafanaDashboardBuilder, cluster: string): GrafanaDashboardBuilder {
  builder.withRow(new dashboard.RowBuilder('Reconciliation'));
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Reconcile leader')
        .description(
          'Each remediator serve process: the leader holds the reconcile lease (one per QUEUE_NAME) and runs the loop. None leading: the loop is off (RECONCILE_INTERVAL=0) or not running.',
        )
        .mappings(leaderMappings())
        .reduceOptions(lastValue())
        .textMode(common.BigValueTextMode.ValueAndName)
        .colorMode(common.BigValueColorMode.Value)
        .graphMode(common.BigValueGraphMode.None)
        .span(6)
        .height(5),
      instantQuery('max by (instance) (remediator_reconcile_leader)', '{{instance}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Since the last full pass')
        .description(
          `Since a pass last read every cluster and every Alertmanager. Orange from ${lateSeconds} s, red from ${staleSeconds} s (RemediatorReconcileStale, which allows 3 intervals when that is longer). Never: no live process has finished one (the loop is off, or has not succeeded since start-up). Interval: RECONCILE_INTERVAL, off when 0.`,
        )
        .unit('s')
        .mappings([
          {
            type: dashboard.MappingType.RangeToText,
            options: { from: neverSeconds, to: null, result: { text: 'never', color: 'text', index: 0 } },
          },
        ])
        .thresholds(thresholds('green', [lateSeconds, 'orange'], [staleSeconds, 'red']))
        .reduceOptions(lastValue())
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None)
        .textMode(common.BigValueTextMode.ValueAndName)
        // The interval the processes run the loop at (the same on every replica): 0 is RECONCILE_INTERVAL=0.
        .overrideByName('interval', [
          { id: 'mappings', value: valueMappings({ 0: { text: 'off', color: 'text' } }) },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'text' } },
        ])
        .decimals(0)
        .span(5)
        .height(5),
      instantQuery('time() - max(remediator_reconcile_last_success_timestamp_seconds)', 'since'),
      instantQuery('max(remediator_reconcile_interval_seconds)', 'interval'),
    ),
  );
  builder.withPanel(
    problemCountStat({
      title: 'Alerts recovered',
      description:
        'Runs the loop enqueued in the time range for alerts (firing or resolved) that no webhook had brought: notifications Alertmanager lost (WebhooksLost).',
      count: 'sum(increase(remediator_reconcile_alerts_recovered_total[$__range]))',
      color: 'orange',
    }),
  );
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Fences by the loop')
        .description(
          'Fence runs (remediator-fence) the loop enqueued per cluster because a second member accepted writes, since the remediator processes started.',
        )
        .thresholds(thresholds('green', [1, 'red']))
        .reduceOptions(lastValue())
        .textMode(common.BigValueTextMode.ValueAndName)
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None)
        .decimals(0)
        .span(5)
        .height(5),
      instantQuery(fencesPerCluster(cluster), '{{cluster}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Alertmanagers up / down')
        .description(
          "Alertmanagers (ALERTMANAGER_URL) whose alert list the leader's last read got / did not get (AlertmanagerUnreachableFromRemediator). 0 and 0: none configured, or no leader.",
        )
        .reduceOptions(lastValue())
        .textMode(common.BigValueTextMode.ValueAndName)
        .graphMode(common.BigValueGraphMode.None)
        .overrideByName('down', [{ id: 'thresholds', value: thresholds('green', [1, 'red']).build() }])
        .decimals(0)
        .span(4)
        .height(5),
      // Only the leader has these series; no Alertmanager listed counts 0, not "No data".
      instantQuery('count(remediator_reconcile_alertmanager_up == 1) or vector(0)', 'up'),
      instantQuery('count(remediator_reconcile_alertmanager_up == 0) or vector(0)', 'down'),
    ),
  );
  builder.withPanel(
    withQueries(
      stackedCounts('Reconcile passes by outcome')
        .description(
          'ok: every cluster and Alertmanager read. partial: an Alertmanager or a cluster could not be read. failed: Redis could not.',
        )
        .overrideByName('ok', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'green' } }])
        .overrideByName('partial', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'orange' } }])
        .overrideByName('failed', [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }]),
      rangeQuery('sum by (outcome) (increase(remediator_reconcile_passes_total[$__interval]))', '{{outcome}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      stackedCounts('Alerts recovered by status').description(
        'firing: an alert that fired without a webhook reaching remediator. resolved: a resolution a run waited for that no webhook brought.',
      ),
      rangeQuery('sum by (status) (increase(remediator_reconcile_alerts_recovered_total[$__interval]))', '{{status}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new StateTimelinePanel()
        .title('Reconcile leader over time')
        .description('A handover shows as the leader moving from one process to another: within RECONCILE_LEASE_TTL when the leader dies.')
        .mappings(leaderMappings())
        .showValue(common.VisibilityMode.Never)
        .span(12)
        .height(8),
      rangeQuery('max by (instance) (remediator_reconcile_leader)', '{{instance}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Fences by the loop per cluster')
        .description('Since the remediator processes started: each step up is a fence run for a second writable member.')
        .lineInterpolation(common.LineInterpolation.StepAfter)
        .legend(tableLegend())
        .decimals(0)
        .min(0)
        .span(12)
        .height(8),
      rangeQuery(fencesPerCluster(cluster), '{{cluster}}'),
    ),
  );
  return builder;
}
