import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AlertIntake } from '../alerts/alert-intake.js';
import type { RunData } from '../core/run-data.js';
import type { Sample } from '../exporters/metric-catalogue.js';
import type { Inventory } from '../inventory/inventory.js';
import type { ReconcileMetrics } from '../metrics/reconcile-metrics.js';
import type { PrimaryRecord } from '../state/primary-record.js';
import { createAlertSweep } from './alert-sweep.js';
import type { AlertmanagerClient } from './alertmanager-client.js';
import { createReconcileLease } from './reconcile-lease.js';
import { startReconcileLoop, type PassHook, type ReconcileLoop } from './reconcile-loop.js';
import { createRoleSweep } from './role-sweep.js';
import { createSkipRecheck } from './skip-recheck.js';
import type { SkipRechecks } from '../state/skip-rechecks.js';
import type { TargetHolds } from '../state/target-holds.js';

/** How the reconcile loop runs (RECONCILE_*, ALERTMANAGER_*). */
export interface ReconcileSettings {
  intervalMs: number;
  leaseTtlMs: number;
  /** How long an Alertmanager must have been up before an alert missing from its list counts as resolved. */
  alertmanagerWarmupMs: number;
  /** The first wait before an episode a step skipped is run again while its alert stays active (default 30 s). */
  recheckAfterMs?: number;
}

/** What the loop reads and acts through; each part is optional (no inventory: no fencing; no Alertmanager: no recovery). */
export interface ReconcileSources {
  alertmanagers: readonly AlertmanagerClient[];
  roles?: { inventory: Inventory; probe: () => Promise<Sample[]>; record: PrimaryRecord };
}

/** Builds the loop's parts on one queue's Redis and starts it. */
export function startReconcile(
  settings: ReconcileSettings,
  sources: ReconcileSources,
  deps: {
    redis: Redis;
    queue: Queue<RunData>;
    intake: AlertIntake;
    prefix: string;
    metrics: ReconcileMetrics;
    logger: Logger;
    /** The runs a step skipped, noted by the runner. */
    rechecks: SkipRechecks;
    /** More work for each pass of the leader, after the sweeps (the failover drills). */
    hooks?: readonly PassHook[];
    /** The holds on targets: a run skipped by one is run again once it ends. */
    holds?: Pick<TargetHolds, 'get'> | undefined;
  },
): ReconcileLoop {
  const logger = deps.logger.child({ component: 'reconcile' });
  const common = { intake: deps.intake, queue: deps.queue, redis: deps.redis, prefix: deps.prefix, metrics: deps.metrics, logger };
  return startReconcileLoop({
    lease: createReconcileLease(deps.redis, {
      key: `${deps.prefix}:reconcile:lease`,
      owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      ttlMs: settings.leaseTtlMs,
    }),
    ...(sources.roles
      ? { roles: createRoleSweep({ ...common, ...sources.roles, refenceAfterMs: Math.max(2 * settings.intervalMs, 30_000) }) }
      : {}),
    ...(sources.alertmanagers.length > 0
      ? {
          alerts: createAlertSweep({
            ...common,
            alertmanagers: sources.alertmanagers,
            warmupMs: settings.alertmanagerWarmupMs,
            recheck: createSkipRecheck({
              rechecks: deps.rechecks,
              holds: deps.holds,
              queue: deps.queue,
              intake: deps.intake,
              afterMs: settings.recheckAfterMs ?? 30_000,
              logger,
            }),
          }),
        }
      : {}),
    ...(deps.hooks ? { hooks: deps.hooks } : {}),
    intervalMs: settings.intervalMs,
    metrics: deps.metrics,
    logger,
  });
}
