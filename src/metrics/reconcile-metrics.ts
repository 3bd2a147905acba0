import { Counter, Gauge, type Registry } from 'prom-client';

/** Outcomes of one pass of the reconcile loop. */
export const reconcilePassOutcomes = ['ok', 'partial', 'failed'] as const;
/** One outcome of a pass: `partial` when an Alertmanager or a cluster could not be read, `failed` when Redis could not. */
export type ReconcilePassOutcome = (typeof reconcilePassOutcomes)[number];

/** The reconcile loop's metrics (docs/metrics.md, docs/reconcile.md). */
export interface ReconcileMetrics {
  /** 1 while this process holds the reconcile lease and runs the loop. */
  readonly leader: Gauge;
  /** RECONCILE_INTERVAL in seconds, 0 when the loop is off: tells a loop that is off from one that never succeeded. */
  readonly interval: Gauge;
  readonly passes: Counter<'outcome'>;
  /** When the last pass that read every source ended (unix seconds). */
  readonly lastSuccess: Gauge;
  /** Runs the loop enqueued that no webhook had: firing alerts, and resolutions a run waited for. */
  readonly alertsRecovered: Counter<'status'>;
  /** Fence runs the loop enqueued for a second writable member. */
  readonly fences: Counter<'cluster'>;
  /** 1 when the last read of this Alertmanager answered. */
  readonly alertmanagerUp: Gauge<'alertmanager'>;
}

/** Registers the reconcile loop's metrics on `registry`; series a dashboard sums exist at 0 from start-up. */
export function createReconcileMetrics(registry: Registry): ReconcileMetrics {
  const passes = new Counter({
    name: 'remediator_reconcile_passes_total',
    help: 'Passes of the reconcile loop by outcome: ok, partial (an Alertmanager or a cluster could not be read), failed (Redis could not).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of reconcilePassOutcomes) passes.inc({ outcome }, 0);
  const alertsRecovered = new Counter({
    name: 'remediator_reconcile_alerts_recovered_total',
    help: "Runs the reconcile loop enqueued from Alertmanager's alert list that no webhook had enqueued, by alert status.",
    labelNames: ['status'],
    registers: [registry],
  });
  for (const status of ['firing', 'resolved']) alertsRecovered.inc({ status }, 0);
  return {
    leader: new Gauge({
      name: 'remediator_reconcile_leader',
      help: '1 while this process holds the reconcile lease and runs the loop (one process of a queue at a time).',
      registers: [registry],
    }),
    interval: new Gauge({
      name: 'remediator_reconcile_interval_seconds',
      help: 'RECONCILE_INTERVAL of this process in seconds; 0 when the reconcile loop is off.',
      registers: [registry],
    }),
    passes,
    lastSuccess: new Gauge({
      name: 'remediator_reconcile_last_success_timestamp_seconds',
      help: 'When the last reconcile pass that read every cluster and every Alertmanager ended, in unix seconds.',
      registers: [registry],
    }),
    alertsRecovered,
    fences: new Counter({
      name: 'remediator_reconcile_fences_total',
      help: 'Fence runs the reconcile loop enqueued because a second member of a cluster accepted writes.',
      labelNames: ['cluster'],
      registers: [registry],
    }),
    alertmanagerUp: new Gauge({
      name: 'remediator_reconcile_alertmanager_up',
      help: "1 when the reconcile loop's last read of this Alertmanager's alerts answered, 0 when it failed.",
      labelNames: ['alertmanager'],
      registers: [registry],
    }),
  };
}
