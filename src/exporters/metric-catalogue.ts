/**
 * Every metric the exporter produces: the contract between collectors, rules/, dashboards and `remediator lint`.
 * Labels stay bounded: cluster, instance (member name), role, service (cluster kind), and for streams the
 * stream name (one per camera).
 */
export const exporterMetrics = {
  remediator_member_up: {
    help: '1 when the member answered its probe (HTTP health URL, protocol probe or TCP connect), 0 otherwise.',
    labels: ['cluster', 'instance', 'role', 'service'],
  },
  remediator_member_probe_duration_seconds: {
    help: 'How long the member probe took (bounded by the probe timeout).',
    labels: ['cluster', 'instance', 'service'],
  },
  remediator_replication_link_up: {
    help: 'For a replica: 1 when its link to the primary is up, 0 when down.',
    labels: ['cluster', 'instance', 'service'],
  },
  remediator_replication_lag_bytes: {
    help: 'For a replica: bytes behind the freshest member it can be compared with (Redis offset, PostgreSQL LSN).',
    labels: ['cluster', 'instance', 'service'],
  },
  remediator_replication_lag_seconds: {
    help: 'For a replica: Redis seconds since the last I/O with its primary; PostgreSQL replay delay.',
    labels: ['cluster', 'instance', 'service'],
  },
  remediator_cluster_primaries: {
    help: 'Members of a Redis or PostgreSQL cluster that answered their probe as a primary (live role). More than 1 is two writable primaries: MultiplePrimaries.',
    labels: ['cluster', 'service'],
  },
  remediator_stream_up: {
    help: '1 when the stream is being published (nginx-rtmp /stat, MediaMTX API), 0 when it is known but not published.',
    labels: ['cluster', 'instance', 'stream'],
  },
  remediator_stream_bitrate_bits_per_second: {
    help: 'Incoming bitrate of the stream.',
    labels: ['cluster', 'instance', 'stream'],
  },
  remediator_stream_readers: {
    help: 'Clients reading (playing) the stream.',
    labels: ['cluster', 'instance', 'stream'],
  },
  remediator_rtmp_handshake_success: {
    help: '1 when an RTMP handshake with the ingest port completed within the probe timeout.',
    labels: ['cluster', 'instance'],
  },
} as const;

/** A metric name of the catalogue. */
export type ExporterMetricName = keyof typeof exporterMetrics;

/** One value a collector reports; the core turns samples into gauges. */
export interface Sample {
  metric: ExporterMetricName;
  labels: Record<string, string>;
  value: number;
}

/**
 * Normalised role names: Redis master/slave and PostgreSQL recovery state map onto these; `fenced` is a PostgreSQL
 * primary that refuses writes (default_transaction_read_only), as postgres.promote leaves a stale one.
 */
export type MemberRole = 'primary' | 'replica' | 'fenced' | 'unknown';
