import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import {
  buildDashboard,
  dashedThresholds,
  instantQuery,
  labelValuesVariable,
  lastValue,
  mergeColumns,
  rangeQuery,
  remediatorDashboard,
  tableLegend,
  tableQuery,
  thresholds,
  upDownMappings,
  withQueries,
  type GrafanaDashboard,
} from './dashboard-kit.js';

/** Member metrics carry cluster, instance, service (and role on remediator_member_up); stream metrics cluster, instance, stream. */
const member = 'cluster=~"$cluster", service=~"$service", instance=~"$instance"';
const stream = 'cluster=~"$cluster", instance=~"$instance"';
/** remediator_member_up's role, joined onto a member metric so table rows line up with the up/role row. */
const withRole = (expr: string) =>
  `max by (cluster, service, instance, role) (${expr} * on (cluster, instance, service) group_left (role) (remediator_member_up{${member}} * 0 + 1))`;
/** The failover action's own limits (redis-primary-failover: maxLagBytes 1 MiB, maxStaleness 10 s), as in rules/instances.rules.yml. */
const maxLagBytes = 1048576;
const maxLagSeconds = 10;

/**
 * Fleet: which members are up, with which live role, in which cluster; how far the replicas are behind (the
 * failover's limits); whether the camera streams are published and the RTMP ingest answers; how long probes take.
 */
export function fleetDashboard(): GrafanaDashboard {
  const builder = remediatorDashboard({
    uid: 'remediator-fleet',
    title: 'remediator / Fleet',
    description:
      'The members of every inventory cluster as `remediator exporter` probes them: up and role, replication lag and link, streams, RTMP handshake, probe duration.',
    variables: [
      labelValuesVariable('cluster', { label: 'Cluster', selector: 'remediator_member_up' }),
      labelValuesVariable('service', { label: 'Service', selector: 'remediator_member_up{cluster=~"$cluster"}' }),
      labelValuesVariable('instance', { label: 'Member', selector: 'remediator_member_up{cluster=~"$cluster", service=~"$service"}' }),
    ],
  });

  builder.withRow(new dashboard.RowBuilder('Members'));
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Exporter')
        .description('Without the exporter no member is probed: no InstanceDown can fire.')
        .mappings(upDownMappings())
        .reduceOptions(lastValue())
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None)
        .span(4)
        .height(5),
      instantQuery('min(up{job="remediator-exporter"})'),
    ),
  );
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Members up / down')
        .reduceOptions(lastValue())
        .textMode(common.BigValueTextMode.ValueAndName)
        .graphMode(common.BigValueGraphMode.Area)
        .overrideByName('down', [{ id: 'thresholds', value: thresholds('green', [1, 'red']).build() }])
        .decimals(0)
        .span(8)
        .height(5),
      instantQuery(`sum(remediator_member_up{${member}})`, 'up'),
      // Every member up is 0 down, not "No data".
      instantQuery(`count(remediator_member_up{${member}} == 0) or vector(0)`, 'down'),
    ),
  );
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Primaries up per cluster')
        .description('Exactly one is healthy: 0 is an outage (failover pending), 2 or more is a split brain.')
        .mappings([
          {
            type: dashboard.MappingType.ValueToText,
            options: { 0: { text: 'no primary', color: 'red', index: 0 }, 1: { text: '1', color: 'green', index: 1 } },
          },
          {
            type: dashboard.MappingType.RangeToText,
            options: { from: 2, to: null, result: { text: 'split brain', color: 'red', index: 2 } },
          },
        ])
        .reduceOptions(lastValue())
        .textMode(common.BigValueTextMode.ValueAndName)
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None)
        .span(8)
        .height(5),
      instantQuery(`sum by (cluster) (remediator_member_up{${member}, role="primary"})`, '{{cluster}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Slowest probe')
        .unit('s')
        .reduceOptions(lastValue())
        .graphMode(common.BigValueGraphMode.Area)
        .span(4)
        .height(5),
      instantQuery(`max(remediator_member_probe_duration_seconds{${member}})`),
    ),
  );
  builder.withPanel(
    withQueries(
      new TablePanel()
        .title('Members')
        .description('Live role as probed; a member that is down keeps its last known role. Lag is shown for replicas.')
        .transformations(mergeColumns({ A: 'Up', B: 'Probe', C: 'Link', D: 'Lag (bytes)', E: 'Lag (s)' }))
        .overrideByName('Up', [
          { id: 'mappings', value: upDownMappings() },
          { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground } },
        ])
        .overrideByName('Link', [
          { id: 'mappings', value: upDownMappings() },
          { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorText } },
        ])
        .overrideByName('Probe', [{ id: 'unit', value: 's' }])
        .overrideByName('Lag (bytes)', [
          { id: 'unit', value: 'bytes' },
          { id: 'thresholds', value: thresholds('green', [maxLagBytes, 'red']).build() },
          { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorText } },
        ])
        .overrideByName('Lag (s)', [
          { id: 'unit', value: 's' },
          { id: 'thresholds', value: thresholds('green', [maxLagSeconds, 'red']).build() },
          { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorText } },
        ])
        .span(24)
        .height(8),
      tableQuery(`max by (cluster, service, instance, role) (remediator_member_up{${member}})`),
      tableQuery(withRole(`remediator_member_probe_duration_seconds{${member}}`)),
      tableQuery(withRole(`remediator_replication_link_up{${member}}`)),
      tableQuery(withRole(`remediator_replication_lag_bytes{${member}}`)),
      tableQuery(withRole(`remediator_replication_lag_seconds{${member}}`)),
    ),
  );
  builder.withPanel(
    withQueries(
      new StateTimelinePanel()
        .title('Members up and role over time')
        .description('One line per member and live role: a failover shows as a replica line taking over from the primary line.')
        .mappings(upDownMappings())
        .showValue(common.VisibilityMode.Never)
        .span(12)
        .height(9),
      rangeQuery(`max by (cluster, instance, role) (remediator_member_up{${member}})`, '{{cluster}} {{instance}} ({{role}})'),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel().title('Members up by cluster and role').legend(tableLegend()).decimals(0).min(0).span(12).height(9),
      rangeQuery(`sum by (cluster, role) (remediator_member_up{${member}})`, '{{cluster}} {{role}}'),
    ),
  );

  builder.withRow(new dashboard.RowBuilder('Replication'));
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Replication lag (bytes)')
        .description('Dashed: 1 MiB, beyond which the failover does not promote a replica (and ReplicationLag fires after 1m).')
        .unit('bytes')
        .thresholds(thresholds('green', [maxLagBytes, 'red']))
        .thresholdsStyle(dashedThresholds())
        .legend(tableLegend())
        .min(0)
        .span(12)
        .height(8),
      rangeQuery(`max by (cluster, instance) (remediator_replication_lag_bytes{${member}})`, '{{cluster}} {{instance}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Replication lag (seconds)')
        .description(
          'Redis: seconds since the last I/O with the primary (climbs to its 10 s ping period when idle). PostgreSQL: replay delay. Dashed: 10 s.',
        )
        .unit('s')
        .thresholds(thresholds('green', [maxLagSeconds, 'red']))
        .thresholdsStyle(dashedThresholds())
        .legend(tableLegend())
        .min(0)
        .span(12)
        .height(8),
      rangeQuery(`max by (cluster, instance) (remediator_replication_lag_seconds{${member}})`, '{{cluster}} {{instance}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new StateTimelinePanel()
        .title('Replication link')
        .mappings(upDownMappings())
        .showValue(common.VisibilityMode.Never)
        .span(12)
        .height(8),
      rangeQuery(`max by (cluster, instance) (remediator_replication_link_up{${member}})`, '{{cluster}} {{instance}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel()
        .title('Probe duration')
        .description('Bounded by EXPORTER_PROBE_TIMEOUT_MS: a flat line at the timeout is a member that does not answer.')
        .unit('s')
        .legend(tableLegend())
        .min(0)
        .span(12)
        .height(8),
      rangeQuery(`max by (cluster, instance) (remediator_member_probe_duration_seconds{${member}})`, '{{cluster}} {{instance}}'),
    ),
  );

  builder.withRow(new dashboard.RowBuilder('Streams'));
  builder.withPanel(
    withQueries(
      new StatPanel()
        .title('Streams published / not published')
        .reduceOptions(lastValue())
        .textMode(common.BigValueTextMode.ValueAndName)
        .graphMode(common.BigValueGraphMode.None)
        .overrideByName('not published', [{ id: 'thresholds', value: thresholds('green', [1, 'red']).build() }])
        .decimals(0)
        .span(6)
        .height(8),
      instantQuery(`sum(remediator_stream_up{${stream}})`, 'published'),
      instantQuery(`count(remediator_stream_up{${stream}} == 0) or vector(0)`, 'not published'),
    ),
  );
  builder.withPanel(
    withQueries(
      new StateTimelinePanel()
        .title('Stream published')
        .mappings(upDownMappings())
        .showValue(common.VisibilityMode.Never)
        .span(9)
        .height(8),
      rangeQuery(`max by (cluster, instance, stream) (remediator_stream_up{${stream}})`, '{{cluster}} {{instance}} {{stream}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new StateTimelinePanel()
        .title('RTMP handshake')
        .description("An RTMP handshake with the member's ingest port completed within the probe timeout.")
        .mappings(upDownMappings())
        .showValue(common.VisibilityMode.Never)
        .span(9)
        .height(8),
      rangeQuery(`max by (cluster, instance) (remediator_rtmp_handshake_success{${stream}})`, '{{cluster}} {{instance}}'),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel().title('Stream bitrate').unit('bps').legend(tableLegend()).min(0).span(12).height(8),
      rangeQuery(
        `max by (cluster, instance, stream) (remediator_stream_bitrate_bits_per_second{${stream}})`,
        '{{cluster}} {{instance}} {{stream}}',
      ),
    ),
  );
  builder.withPanel(
    withQueries(
      new TimeseriesPanel().title('Stream readers').legend(tableLegend()).decimals(0).min(0).span(12).height(8),
      rangeQuery(`sum by (cluster, instance, stream) (remediator_stream_readers{${stream}})`, '{{cluster}} {{instance}} {{stream}}'),
    ),
  );
  return buildDashboard(builder);
}
