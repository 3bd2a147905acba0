import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ActionRegistry } from '../core/action-registry.js';
import { createAlertIntake } from '../alerts/alert-intake.js';
import type { ValueLimits } from '../alerts/value-limits.js';
import { createHttpListener } from '../http/create-app.js';
import type { LoginThrottle } from '../http/login-throttle.js';
import { createMetrics, type RemediatorMetrics } from '../metrics/create-metrics.js';
import { initializeSeries } from '../metrics/initialize-series.js';
import type { Playbook } from '../core/playbook.js';
import { createRunProcessor, handBackReason } from '../runner/run-processor.js';
import { createRemediationQueue, createRunWorker } from '../queue/remediation-queue.js';
import { createTargetLocks } from '../state/target-lock.js';
import { createFailbackState } from '../state/failback-state.js';
import { createRunInserter } from '../queue/run-inserter.js';
import type { TargetHolds } from '../state/target-holds.js';
import type { InventoryCluster } from '../inventory/inventory.js';
import { createRunApprovals } from '../state/run-approvals.js';
import { createRunBudgets } from '../state/run-budgets.js';
import { createSkipRechecks } from '../state/skip-rechecks.js';
import { createAuditLog } from '../state/audit-log.js';
import { createApprovalLinks } from '../approvals/approval-links.js';
import type { PrometheusClient } from '../promql/prometheus-client.js';
import type { RunData } from '../core/run-data.js';
import { startReconcile, type ReconcileSettings, type ReconcileSources } from '../reconcile/start-reconcile.js';
import type { ReconcileLoop } from '../reconcile/reconcile-loop.js';
import type { AlertmanagerSilences } from '../reconcile/alertmanager-silences.js';

import { errorMessage } from '../core/errors/index.js';
import type { Drill } from '../drills/drill.js';
import { createServiceDrills } from '../drills/service-drills.js';
import { createRateLimited } from '../logging/rate-limited.js';
import { withTimeout } from '../util/with-timeout.js';
import type { UserRecord } from '../users/users-file.js';
import type { TrustedProxySettings } from '../http/trusted-proxy.js';
import { startHttpServer, type ListeningServer, type ServerTls } from '../tls/https-server.js';

/** Settings of one remediator process (a subset of Config, so tests can build one directly). */
export interface ServiceSettings {
  host: string;
  port: number;
  queueName: string;
  webhookToken: string | undefined;
  webhookUser: string | undefined;
  adminUser: string;
  adminPassword: string | undefined;
  /** The users of USERS_FILE, each with a role (docs/users.md). */
  users?: readonly UserRecord[];
  /** A reverse proxy naming the user in a header (TRUSTED_PROXY_*). */
  trustedProxy?: TrustedProxySettings;
  /** Origins besides the server's own whose pages may make admin changes (ADMIN_ALLOWED_ORIGINS). */
  adminAllowedOrigins: readonly string[];
  bodyLimit: number;
  /** Alerts in one webhook body; more is a 413. */
  maxAlerts: number;
  /** Sizes of label and annotation values kept on intake. */
  valueLimits: ValueLimits;
  dryRun: boolean;
  retentionMs: number;
  redisTimeoutMs: number;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** Lease on a target while a run acts on it; renewed every third of it, lapses this long after its holder died. */
  targetLockTtlMs: number;
  /** Fleet-wide: at most this many runs act at once (0: no limit). */
  maxConcurrentRuns: number;
  /** What a run does when every slot is taken: wait for one, or skip. */
  concurrencyExceeded: 'wait' | 'skip';
  /** Blast radius: at most this many distinct targets acted on per `targetsWindowMs` (0: no limit). */
  maxTargets: number;
  targetsWindowMs: number;
  /** Run the HTTP API (webhook, UI) in this process. */
  api: boolean;
  /** Run the worker in this process. */
  worker: boolean;
  /** The reconcile loop; absent: off (RECONCILE_INTERVAL=0). */
  reconcile?: ReconcileSettings;
  /** Signed approval links (APPROVAL_LINK_KEY, PUBLIC_URL); absent: none are issued and /approve/ is not served. */
  approvalLinks?: { key: string; publicUrl: string };
  /** HTTPS (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE); absent: plain HTTP. */
  tls?: ServerTls;
}

/** The clients the composition root built. */
export interface ServiceClients {
  /** For the producer side: fails fast when Redis is down, so the webhook answers 503 instead of hanging. */
  producerConnection: Redis;
  /** For the worker: retries forever (BullMQ requires maxRetriesPerRequest: null). */
  workerConnection: Redis;
  registry: Registry;
  logger: Logger;
  actions: ActionRegistry;
  playbooks: readonly Playbook[];
  /** Holds set by remediator.hold; runs on a held target are skipped. */
  holds?: TargetHolds;
  /** Where playbook guards are evaluated. */
  prometheus?: PrometheusClient;
  /** The backoff of failed admin logins (default: five free attempts, then 1 s doubling up to 5 min). */
  loginThrottle?: LoginThrottle;
  /** The clock of the default login backoff and of its log line. */
  now?: () => number;
  /** How often the embedded Redis was restarted (serve on its own redis-server); read at scrape time. */
  embeddedRedisRestarts?: () => number;
  /** Playbooks remediator brings itself (the reconcile loop's fences): run by the worker, never matched by a webhook. */
  builtInPlaybooks?: readonly Playbook[];
  /** What the reconcile loop reads (with settings.reconcile). */
  reconcile?: ReconcileSources;
  /** The failover drills (remediations/drills.yaml): started by the reconcile loop's leader. */
  drills?: readonly Drill[];
  /** The Alertmanagers where a playbook's `silence:` is created while its run is active (ALERTMANAGER_URL). */
  silences?: readonly AlertmanagerSilences[];
  /** The clusters operators may switch over (POST /api/clusters/:cluster/switchover). */
  clusters?: ReadonlyMap<string, InventoryCluster>;
}

/** A running remediator. */
export interface RemediatorService {
  readonly queue: Queue<RunData>;
  readonly worker: Worker<RunData> | undefined;
  readonly metrics: RemediatorMetrics;
  /** The bound address (port resolved when 0 was asked). */
  readonly url: string | undefined;
  /** The reconcile loop, when it runs in this process. */
  readonly reconcile: ReconcileLoop | undefined;
  /** Reads the TLS files now and serves a changed, valid pair (as the reload timer does); true when it swapped. */
  readonly reloadTls: () => boolean;
  /** Graceful stop; `drainMs` bounds the wait for in-flight steps. Calling it twice returns the first promise. */
  close(drainMs?: number): Promise<void>;
}

/**
 * Assembles and starts one remediator process.
 * Shutdown order: stop accepting HTTP → let the worker finish its in-flight steps (up to `drainMs`, then hand the
 * runs back through the stalled check) → close the queue. Connections belong to the caller and are closed after.
 */
export async function startService(settings: ServiceSettings, clients: ServiceClients): Promise<RemediatorService> {
  const { logger } = clients;
  const queue = createRemediationQueue({ name: settings.queueName, connection: clients.producerConnection });
  // Every reconnect attempt during a Redis outage is an error event: one line per 10 s says it, with the count.
  const queueErrors = createRateLimited(10_000);
  queue.on('error', (error) => {
    queueErrors((suppressed) => {
      logger.warn({ err: error, suppressed }, 'queue connection error');
    });
  });
  const holds = clients.holds;
  const prefix = `remediator:${settings.queueName}`;
  const builtIn = clients.builtInPlaybooks ?? [];
  const drills = createServiceDrills(clients.drills ?? [], {
    redis: clients.producerConnection,
    prefix,
    holds,
    playbooks: [...clients.playbooks, ...builtIn],
    logger,
  });
  // The HTTP(S) server, once started (settings.api).
  let listening: ListeningServer | undefined;
  const metrics = createMetrics({
    registry: clients.registry,
    queueCounts: () => queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'),
    paused: () => queue.isPaused(),
    redisPing: () => clients.producerConnection.ping(),
    // A scrape must answer within Prometheus's scrape timeout (10 s by default) whatever Redis does.
    scrapeTimeoutMs: settings.redisTimeoutMs,
    ...(clients.embeddedRedisRestarts ? { embeddedRedisRestarts: clients.embeddedRedisRestarts } : {}),
    // The server starts after the metrics: read at scrape time, through it.
    tlsCertificateExpiry: () => listening?.certificateExpiry(),
    ...(holds ? { activeHolds: async () => (await holds.list()).length } : {}),
    ...(drills ? { drills: drills.metrics } : {}),
  });
  metrics.playbooksLoaded.set(clients.playbooks.length);
  metrics.reconcile.interval.set(settings.reconcile && clients.reconcile ? settings.reconcile.intervalMs / 1000 : 0);
  // Every series a playbook can produce exists from start-up at 0: otherwise a counter's first increment is its
  // first sample, increase() over it reads 0, and "how many runs were skipped" shows No data instead of 0.
  initializeSeries(metrics, [...clients.playbooks, ...builtIn]);
  const failback = createFailbackState(clients.producerConnection, { prefix, retentionMs: settings.retentionMs });
  const approvals = createRunApprovals(clients.producerConnection, { prefix, retentionMs: settings.retentionMs });
  const links = settings.approvalLinks ? createApprovalLinks(settings.approvalLinks, clients.producerConnection, prefix) : undefined;
  const budgets = createRunBudgets(clients.producerConnection, { prefix });
  const rechecks = createSkipRechecks(clients.producerConnection, { prefix });
  // Only a loop that reads Alertmanager can tell whether a skipped run's alert is still active: without one, nothing is noted.
  const rechecking = settings.reconcile !== undefined && (clients.reconcile?.alertmanagers.length ?? 0) > 0;

  let worker: Worker<RunData> | undefined;
  if (settings.worker) {
    const processor = createRunProcessor({
      playbooks: new Map([...clients.playbooks, ...builtIn].map((playbook) => [playbook.name, playbook])),
      actions: clients.actions,
      logger,
      metrics,
      locks: createTargetLocks(clients.producerConnection, { prefix, ttlMs: settings.targetLockTtlMs }),
      lockRenewMs: Math.max(100, Math.floor(settings.targetLockTtlMs / 3)),
      lockRetryMs: 500,
      failback,
      ...(clients.holds ? { holds: clients.holds } : {}),
      ...(clients.prometheus ? { prometheus: clients.prometheus } : {}),
      budgets,
      ...(rechecking ? { rechecks } : {}),
      ...(clients.silences ? { silences: { alertmanagers: clients.silences, metrics } } : {}),
      global: {
        maxConcurrentRuns: settings.maxConcurrentRuns,
        maxTargets: settings.maxTargets,
        targetsWindowMs: settings.targetsWindowMs,
        concurrencyExceeded: settings.concurrencyExceeded,
      },
      approvals,
      ...(links ? { approvalLinks: links.issue } : {}),
      ...(drills ? { onRunEnd: drills.onRunEnd } : {}),
      // The queue's own pause flag is the kill switch, so pausing in the queue UI and POST /api/pause are one state.
      isPaused: () => queue.isPaused(),
      waitRetryMs: 500,
    });
    worker = createRunWorker(processor, {
      name: settings.queueName,
      connection: clients.workerConnection,
      concurrency: settings.concurrency,
      lockDurationMs: settings.lockDurationMs,
      stalledIntervalMs: settings.stalledIntervalMs,
    });
    const workerErrors = createRateLimited(10_000);
    worker.on('error', (error) => {
      workerErrors((suppressed) => {
        logger.warn({ err: error, suppressed }, 'worker error');
      });
    });
    worker.on('failed', (job, error) => {
      logger.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, err: error }, 'run attempt failed');
    });
    worker.on('stalled', (jobId) => {
      logger.warn({ jobId }, 'run stalled (its worker died): it will resume from its last checkpoint');
    });
  }

  const inserter = createRunInserter(clients.producerConnection, queue);
  const createIntake = (playbooks: readonly Playbook[]) =>
    createAlertIntake({
      playbooks,
      queue,
      inserter,
      failback,
      logger,
      metrics,
      retentionMs: settings.retentionMs,
      dryRun: settings.dryRun,
      timeoutMs: settings.redisTimeoutMs,
      valueLimits: settings.valueLimits,
      // Alertmanager retries a failed notification for minutes at most; a later redelivery is still deduplicated
      // by the runs' job ids, only at full cost.
      redelivery: { keyPrefix: prefix, windowMs: 5 * 60_000 },
    });
  // The loop and the switchover API enqueue through an intake of their own that also knows the built-in playbooks
  // (fences, switchovers); a webhook never matches them.
  const builtInIntake = createIntake([...clients.playbooks, ...builtIn]);
  const reconcile =
    settings.reconcile && clients.reconcile
      ? startReconcile(settings.reconcile, clients.reconcile, {
          redis: clients.producerConnection,
          queue,
          intake: builtInIntake,
          prefix,
          metrics: metrics.reconcile,
          logger,
          rechecks,
          holds,
          // The drills start in the leader's passes, through the loop's intake (their switchover playbooks are built in).
          ...(drills ? { hooks: [drills.passHook({ intake: builtInIntake, queue })] } : {}),
        })
      : undefined;

  if (settings.api) {
    const intake = createIntake(clients.playbooks);
    const listener = createHttpListener({
      intake,
      queue,
      queueMetrics: () => withTimeout(queue.exportPrometheusMetrics(), settings.redisTimeoutMs),
      approvals,
      metrics,
      logger,
      readiness: async () => {
        let redis: { ok: boolean; reason?: string };
        try {
          await withTimeout(clients.producerConnection.ping(), settings.redisTimeoutMs);
          redis = { ok: true };
        } catch (error) {
          redis = { ok: false, reason: errorMessage(error) };
        }
        return { redis, playbooks: clients.playbooks.length > 0 ? { ok: true } : { ok: false, reason: 'no playbooks loaded' } };
      },
      ...(reconcile ? { reconcileStatus: () => reconcile.status() } : {}),
      ...(clients.holds
        ? {
            operator: {
              holds: clients.holds,
              budgets,
              audit: createAuditLog(clients.producerConnection, { prefix }),
              playbooks: clients.playbooks,
            },
          }
        : {}),
      ...(clients.clusters && clients.clusters.size > 0
        ? { switchover: { clusters: clients.clusters, intake: builtInIntake, playbooks: builtIn, prefix } }
        : {}),
      // Paused is reported, not "not ready": alerts must still be accepted and queued while remediation is paused.
      paused: async () => {
        try {
          return await withTimeout(queue.isPaused(), settings.redisTimeoutMs);
        } catch {
          return undefined;
        }
      },
      webhookToken: settings.webhookToken,
      webhookUser: settings.webhookUser,
      adminUser: settings.adminUser,
      adminPassword: settings.adminPassword,
      ...(settings.users ? { users: settings.users } : {}),
      ...(settings.trustedProxy ? { trustedProxy: settings.trustedProxy } : {}),
      adminAllowedOrigins: settings.adminAllowedOrigins,
      bodyLimit: settings.bodyLimit,
      maxAlerts: settings.maxAlerts,
      redis: clients.producerConnection,
      ...(links ? { approvalLinks: links.route } : {}),
      ...(clients.loginThrottle ? { loginThrottle: clients.loginThrottle } : {}),
      ...(clients.now ? { now: clients.now } : {}),
      ...(settings.tls?.files.clientCaFile === undefined ? {} : { webhookClientCertificates: true }),
    });
    // A plain Node server: its listener hands the webhook to a handler outside express (see createHttpListener).
    listening = await startHttpServer(listener, {
      host: settings.host,
      port: settings.port,
      logger,
      ...(settings.tls ? { tls: settings.tls } : {}),
    });
    logger.info({ url: listening.url }, 'remediator listening');
  }

  let closing: Promise<void> | undefined;
  return {
    queue,
    worker,
    metrics,
    url: listening?.url,
    reconcile,
    reloadTls: () => listening?.reloadTls() ?? false,
    close(drainMs = 10_000) {
      closing ??= (async () => {
        // First, so that the lease passes to another replica at once.
        await reconcile?.stop();
        if (listening) {
          const open = listening.server;
          const closed = new Promise<void>((resolve) =>
            open.close(() => {
              resolve();
            }),
          );
          open.closeIdleConnections();
          logger.info('stopped accepting HTTP requests');
          await closed;
          open.closeAllConnections();
        }
        if (worker) {
          const current = worker;
          const drained = await Promise.race([current.close().then(() => true), delay(drainMs).then(() => false)]);
          if (!drained) {
            logger.warn(
              { drainMs },
              'runs still active after the drain period: interrupting their steps and handing them back to the queue',
            );
            // Each run's step sees the abort, records itself as interrupted and parks the run for another worker.
            current.cancelAllJobs(handBackReason);
            const handedBack = await Promise.race([current.close().then(() => true), delay(5000).then(() => false)]);
            // An action that ignores its signal: leave the run to BullMQ's stalled check once its lock lapses.
            if (!handedBack) await current.close(true);
          }
        }
        logger.info('worker closed');
        await queue.close();
      })();
      return closing;
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
