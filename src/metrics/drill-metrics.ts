import { Counter, Gauge, type Registry } from 'prom-client';
import { withTimeout } from '../util/with-timeout.js';

/** How a drill's occurrence or run ended, as remediator_drill_runs_total counts it. */
export const drillOutcomes = ['succeeded', 'failed', 'skipped', 'missed'] as const;
/** One drill outcome: `skipped` is a run that did not act (a gate, a refused switchover, a dry run); `missed`, an occurrence blocked its whole window. */
export type DrillOutcome = (typeof drillOutcomes)[number];

/** What the drill metrics show of one drill's record (times in ms since the epoch). */
export interface DrillMetricsRecord {
  /** When a remediator first saw the drill configured: stands for the last success until there is one. */
  readonly firstScheduledAt?: number;
  readonly lastRunAt?: number;
  readonly lastOutcome?: DrillOutcome;
  readonly lastSuccessAt?: number;
  /** The write pause of the last successful drill: its RTO. */
  readonly lastRtoMs?: number;
  readonly runs: Readonly<Record<DrillOutcome, number>>;
}

/** A configured drill as its series are labelled, with its period. */
export interface DrillSeries {
  readonly drill: string;
  readonly cluster: string;
  /** switchover | failover */
  readonly kind: string;
  readonly periodSeconds: number;
}

/** What the drill metrics are read from at scrape time. */
export interface DrillMetricsSource {
  readonly drills: readonly DrillSeries[];
  /** Each drill's record in remediator's Redis, by name. */
  read(): Promise<ReadonlyMap<string, DrillMetricsRecord>>;
}

const labelNames = ['drill', 'cluster', 'kind'] as const;
/** One read of Redis serves the collects of one scrape (prom-client runs them together). */
const sharedReadMs = 1000;

/**
 * Registers the remediator_drill_* metrics, read from Redis at scrape time so that every replica shows the same
 * values (the leader runs the drills; any worker records their runs). A read that fails or takes longer than
 * `timeoutMs` keeps the last values; the period comes from the configuration and is always shown.
 */
export function registerDrillMetrics(registry: Registry, source: DrillMetricsSource | undefined, timeoutMs: number, now = Date.now): void {
  let shared: { at: number; records: Promise<ReadonlyMap<string, DrillMetricsRecord>> } | undefined;
  const records = () => {
    if (!source) return Promise.resolve(new Map<string, DrillMetricsRecord>());
    if (!shared || now() - shared.at > sharedReadMs) shared = { at: now(), records: withTimeout(source.read(), timeoutMs) };
    return shared.records;
  };
  /** Runs `apply` on this scrape's records; when Redis is down it does nothing: the last values stay (remediator_redis_up says why). */
  const withRecords = async (apply: (read: ReadonlyMap<string, DrillMetricsRecord>, drills: readonly DrillSeries[]) => void) => {
    if (!source) return;
    let read: ReadonlyMap<string, DrillMetricsRecord>;
    try {
      read = await records();
    } catch {
      return;
    }
    apply(read, source.drills);
  };
  /** A gauge of one value per drill; `value` undefined leaves the drill's series out. */
  const perDrill = (name: string, help: string, value: (record: DrillMetricsRecord, series: DrillSeries) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        await withRecords((read, drills) => {
          this.reset();
          for (const series of drills) {
            const record = read.get(series.drill);
            const result = record === undefined ? undefined : value(record, series);
            if (result !== undefined) this.set(seriesLabels(series), result);
          }
        });
      },
    });
  const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
  // Before the first run 0, as remediator_reconcile_last_success_timestamp_seconds: "never" on the dashboard.
  perDrill(
    'remediator_drill_last_run_timestamp_seconds',
    'When the last run of a failover drill ended, in unix seconds; 0 before its first run.',
    (record) => seconds(record.lastRunAt) ?? 0,
  );
  perDrill(
    'remediator_drill_last_success_timestamp_seconds',
    'When the last successful run of a failover drill ended, in unix seconds; before any success, when the drill was first scheduled.',
    (record) => seconds(record.lastSuccessAt ?? record.firstScheduledAt),
  );
  // NaN before the first success: no measurement yet (0 would read as an instant switchover).
  perDrill(
    'remediator_drill_rto_seconds',
    "The RTO the last successful drill measured: from writes stopping on the old primary to the new primary's first accepted write; NaN before the first.",
    (record) => seconds(record.lastRtoMs) ?? Number.NaN,
  );
  new Gauge({
    name: 'remediator_drill_period_seconds',
    help: 'How long a cluster may go without a successful drill (period:) before RemediatorDrillOverdue fires.',
    labelNames,
    registers: [registry],
    collect() {
      for (const series of source?.drills ?? []) this.set(seriesLabels(series), series.periodSeconds);
    },
  });
  new Gauge({
    name: 'remediator_drill_last_outcome',
    help: "1 for the outcome of a drill's last occurrence (succeeded, failed, skipped, missed), 0 for the others.",
    labelNames: [...labelNames, 'outcome'],
    registers: [registry],
    async collect() {
      await withRecords((read, drills) => {
        for (const series of drills)
          for (const outcome of drillOutcomes)
            this.set({ ...seriesLabels(series), outcome }, read.get(series.drill)?.lastOutcome === outcome ? 1 : 0);
      });
    },
  });
  new Counter({
    name: 'remediator_drill_runs_total',
    help: 'Occurrences of failover drills by outcome: succeeded, failed, skipped (the run did not act), missed (refused its whole window).',
    labelNames: [...labelNames, 'outcome'],
    registers: [registry],
    async collect() {
      await withRecords((read, drills) => {
        // Redis counts; the counter shows its counts (reset + inc: a prom-client counter has no set).
        this.reset();
        for (const series of drills)
          for (const outcome of drillOutcomes) this.inc({ ...seriesLabels(series), outcome }, read.get(series.drill)?.runs[outcome] ?? 0);
      });
    },
  });
}

const seriesLabels = (series: DrillSeries) => ({ drill: series.drill, cluster: series.cluster, kind: series.kind });
