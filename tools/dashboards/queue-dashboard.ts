import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import {
  buildDashboard,
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
  upDownMappings,
  valueMappings,
  withQueries,
  type GrafanaDashboard,
} from './dashboard-kit.js';

const playbook = 'playbook=~"$playbook"';
const queue = 'queue=~"$queue"';
const action = 'action=~"$action"';
/** Job states that are work still to do or gone wrong (completed only grows). */
const openStates = 'state=~"waiting|prioritized|active|delayed|failed"';
const stepQuantile = (quantile: number) =>
  `histogram_quantile(${quantile}, sum by (action, le) (rate(remediator_step_duration_seconds_bucket{${action}}[$__rate_interval])))`;

/**
 * Remediation queue: is remediation running or paused, what is waiting, active, delayed or failed, how many
 * runs go through per minute, how long steps take, and what the webhook answered Alertmanager.
 */
export function queueDashboard(): GrafanaDashboard {
  const builder = remediatorDashboard({
    uid: 'remediator-queue',
    title: 'remediator / Remediation queue',
    description:
      "The kill switch, jobs by state (remediator's gauge and BullMQ's own metrics), throughput, step durations by action and the webhook's answers.",
    variables: [
      labelValuesVariable('playbook', { label: 'Playbook', selector: 'remediator_runs_enqueued_total' }),
      labelValuesVariable('queue', { label: 'Queue', selector: 'bullmq_job_count' }),
      labelValuesVariable('action', { label: 'Action', selector: 'remediator_step_duration_seconds_count' }),
    ],
  });

  builder.withRow(new dashboard.RowBuilder('Now'));
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Remediation')
        .description('The kill switch (POST /api/pause, or pausing the queue in the queue UI): alerts are still queued while paused.')
        .mappings(valueMappings({ 0: { text: 'running', color: 'green' }, 1: { text: 'PAUSED', color: 'red' } }))
        .reduceOptions(lastValue())
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None)
        .span(4)
        .height(5),
      instantQuery('max(remediator_paused)'),
    ),
  );
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('remediator instances')
        .description('remediator processes Prometheus scrapes (job remediator).')
        .mappings(upDownMappings())
        .reduceOptions(lastValue())
        .textMode(common.BigValueTextMode.ValueAndName)
        .graphMode(common.BigValueGraphMode.None)
        .span(4)
        .height(5),
      instantQuery('up{job="remediator"}', '{{instance}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Jobs by state')
        .description('Remediation jobs in Redis, read at scrape time (remediator_queue_jobs).')
        .reduceOptions(lastValue())
        .textMode(common.BigValueTextMode.ValueAndName)
        .graphMode(common.BigValueGraphMode.Area)
        .overrideByName('failed', [{ id: 'thresholds', value: thresholds('green', [1, 'red']).build() }])
        .decimals(0)
        .span(12)
        .height(5),
      instantQuery(`sum by (state) (remediator_queue_jobs{${openStates}})`, '{{state}}'),
    ),
  );
  builder.withPanel(
    problemCountStat({
      title: 'Webhook requests refused',
      description:
        'Webhook requests in the time range not answered 202 (invalid, unauthorized, too large, 503 …; a redelivery is a 202); the outcomes are below.',
      count: 'sum(increase(remediator_webhook_requests_total{outcome!~"accepted|redelivered"}[$__range]))',
    }),
  );

  builder.withRow(new dashboard.RowBuilder('Jobs'));
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Jobs by state')
        .description('remediator_queue_jobs: waiting, active, delayed (backoff, a busy target, approval), failed, prioritized.')
        .legend(tableLegend())
        .decimals(0)
        .min(0)
        .span(12)
        .height(8),
      rangeQuery(`sum by (state) (remediator_queue_jobs{${openStates}})`, '{{state}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('BullMQ jobs by queue and state')
        .description("BullMQ's own job counts (bullmq_job_count).")
        .legend(tableLegend())
        .decimals(0)
        .min(0)
        .span(12)
        .height(8),
      rangeQuery(`sum by (queue, state) (bullmq_job_count{${queue}})`, '{{queue}} {{state}}'),
    ),
  );

  builder.withRow(new dashboard.RowBuilder('Throughput'));
  builder.withPanel(
    withQueries(
      new TimeseriesPanel().title('Runs enqueued and finished').unit('opm').legend(tableLegend()).min(0).span(12).height(8),
      rangeQuery(`sum by (playbook) (rate(remediator_runs_enqueued_total{${playbook}}[$__rate_interval])) * 60`, '{{playbook}} enqueued'),
      rangeQuery(
        `sum by (playbook, outcome) (rate(remediator_runs_total{${playbook}}[$__rate_interval])) * 60`,
        '{{playbook}} {{outcome}}',
      ),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel().title('BullMQ jobs completed and failed').unit('opm').legend(tableLegend()).min(0).span(12).height(8),
      rangeQuery(`sum by (queue) (rate(bullmq_job_completed_total{${queue}}[$__rate_interval])) * 60`, '{{queue}} completed'),
      rangeQuery(`sum by (queue) (rate(bullmq_job_failed_total{${queue}}[$__rate_interval])) * 60`, '{{queue}} failed'),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Webhook requests by outcome')
        .description('accepted is 202; unavailable is a 503 while Redis is down (Alertmanager retries); the others are refused for good.')
        .unit('opm')
        .legend(tableLegend())
        .min(0)
        .span(12)
        .height(8),
      rangeQuery('sum by (outcome) (rate(remediator_webhook_requests_total[$__rate_interval])) * 60', '{{outcome}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Alerts received')
        .description(
          "Alerts in accepted webhooks, firing and resolved; and the alerts Alertmanager left out of its notifications (the receiver's max_alerts), which produce no run.",
        )
        .unit('opm')
        .legend(tableLegend())
        .min(0)
        .span(12)
        .height(8),
      rangeQuery('sum by (status) (rate(remediator_alerts_received_total[$__rate_interval])) * 60', '{{status}}'),
      rangeQuery('sum(rate(remediator_alerts_truncated_total[$__rate_interval])) * 60', 'left out by Alertmanager'),
    ),
  );

  builder.withRow(new dashboard.RowBuilder('Steps'));
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Step duration by action')
        .description('Quantiles over the steps that ran in each interval; gaps are intervals without a step.')
        .unit('s')
        .legend(tableLegend())
        .min(0)
        .span(14)
        .height(9),
      rangeQuery(stepQuantile(0.5), '{{action}} p50'),
      rangeQuery(stepQuantile(0.9), '{{action}} p90'),
      rangeQuery(stepQuantile(0.99), '{{action}} p99'),
    ),
  );
  builder.withPanel(
    withQueries(
      new TablePanel()
        .title('Steps by action and outcome')
        .description('Since remediator started.')
        .transformations(mergeColumns({ A: 'Steps', B: 'Mean', C: 'p90' }))
        .overrideByName('Steps', [{ id: 'decimals', value: 0 }])
        .overrideByName('Mean', [{ id: 'unit', value: 's' }])
        .overrideByName('p90', [{ id: 'unit', value: 's' }])
        .decimals(3)
        .span(10)
        .height(9),
      tableQuery(`sum by (action, outcome) (remediator_step_duration_seconds_count{${action}})`),
      tableQuery(
        `sum by (action, outcome) (remediator_step_duration_seconds_sum{${action}}) / sum by (action, outcome) (remediator_step_duration_seconds_count{${action}})`,
      ),
      tableQuery(`histogram_quantile(0.9, sum by (action, outcome, le) (remediator_step_duration_seconds_bucket{${action}}))`),
    ),
  );
  builder.withRow(new dashboard.RowBuilder('Operator'));
  builder.withPanel(
    problemCountStat({
      title: 'Holds in force',
      description:
        'Targets held for maintenance (remediator hold, POST /api/holds, the remediator.hold action): their runs are skipped with the reason until the hold ends. GET /api/holds lists them.',
      count: 'max(remediator_holds_active)',
      color: 'orange',
    }),
  );
  return buildDashboard(builder);
}
