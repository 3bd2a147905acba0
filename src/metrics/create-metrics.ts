import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import { withTimeout } from '../util/with-timeout.js';
import { registerDrillMetrics, type DrillMetricsSource } from './drill-metrics.js';
import { createReconcileMetrics, type ReconcileMetrics } from './reconcile-metrics.js';

/** Outcomes of a webhook request, one label value each. */
export type WebhookOutcome =
  | 'accepted'
  | 'redelivered'
  | 'invalid'
  | 'unauthorized'
  | 'too_large'
  | 'too_many_alerts'
  | 'unsupported_media_type'
  | 'unavailable'
  | 'error';

/** Kinds of value cut on intake: label and annotation values, and the other free text a run stores. */
export const cutValueKinds = ['label', 'annotation', 'other'] as const;
/** One kind of value cut on intake. */
export type CutValueKind = (typeof cutValueKinds)[number];

/** Job states reported by the queue-depth gauge. */
export const queueStates = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

/** remediator's own metrics, registered on an injected registry. */
export interface RemediatorMetrics {
  readonly registry: Registry;
  readonly webhookRequests: Counter<'outcome'>;
  readonly alertsReceived: Counter<'status'>;
  /** Alerts Alertmanager left out of notifications (max_alerts), as its truncatedAlerts says. */
  readonly alertsTruncated: Counter;
  /** Values cut to their size limit on intake. */
  readonly alertValuesTruncated: Counter<'kind'>;
  readonly runsEnqueued: Counter<'playbook'>;
  readonly runs: Counter<'playbook' | 'outcome'>;
  readonly runsSkipped: Counter<'playbook' | 'reason'>;
  readonly stepDuration: Histogram<'action' | 'outcome'>;
  /** Alert startsAt → webhook received. */
  readonly runDetection: Histogram<'playbook' | 'outcome'>;
  /** Webhook received → first step started. */
  readonly runDispatch: Histogram<'playbook' | 'outcome'>;
  /** First step started → last step finished. */
  readonly runAction: Histogram<'playbook' | 'outcome'>;
  /** Alert startsAt → verified recovery (the run's last step succeeded). */
  readonly runRecovery: Histogram<'playbook' | 'outcome'>;
  readonly rtoObjective: Gauge<'playbook'>;
  readonly rtoBreaches: Counter<'playbook'>;
  readonly playbooksLoaded: Gauge;
  /** Failed admin logins: wrong credentials, or refused unchecked while the client waits out its backoff. */
  readonly adminAuthFailures: Counter<'reason'>;
  /** State-changing admin requests refused as cross-site or not JSON. */
  readonly adminWritesRefused: Counter<'reason'>;
  /** Failures to create, extend or expire a run's Alertmanager silence (the run went on without it). */
  readonly silenceErrors: Counter<'operation'>;
  /** Approval link pages by method and what they answered. */
  readonly approvalLinkRequests: Counter<'method' | 'outcome'>;
  /** The reconcile loop's (src/reconcile/). */
  readonly reconcile: ReconcileMetrics;
}

/** Outcomes of remediator_approval_link_requests_total: shown and decided, or why the link was refused. */
export const approvalLinkOutcomes = [
  'shown',
  'decided',
  'malformed',
  'bad_signature',
  'expired',
  'used',
  'not_found',
  'not_pending',
  'already_decided',
  'cross_site',
  'not_form',
] as const;

/** Operations of remediator_silence_errors_total: on a run's Alertmanager silence. */
export const silenceOperations = ['create', 'extend', 'expire'] as const;

/** Reasons of remediator_admin_auth_failures_total. */
export const adminAuthFailureReasons = ['invalid', 'throttled'] as const;
/** Reasons of remediator_admin_writes_refused_total. */
export const adminWriteRefusalReasons = ['cross_site', 'not_json'] as const;

/**
 * Creates the metrics. `queueCounts`, `paused` and `redisPing` are called at scrape time (prom-client's collect),
 * so they are read from Redis when Prometheus asks, not on a timer. A scrape never waits on Redis longer than
 * `scrapeTimeoutMs` (collects run in parallel): while Redis is down or unreachable from the start (BullMQ then
 * waits for a connection that never comes), the gauges keep their last values and `remediator_redis_up` says 0.
 */
export function createMetrics(options: {
  registry: Registry;
  queueCounts?: () => Promise<Record<string, number>>;
  /** The kill switch's state, read at scrape time. */
  paused?: () => Promise<boolean>;
  /** A round trip to remediator's Redis: remediator_redis_up tells "Redis down" from "remediator down" (up=0). */
  redisPing?: () => Promise<unknown>;
  /** Longest wait for each scrape-time call to Redis. */
  scrapeTimeoutMs?: number;
  /** Restarts of the embedded redis-server, counted by its supervisor. */
  embeddedRedisRestarts?: () => number;
  /** When the certificate served over HTTPS expires (ms since the epoch), read at scrape time; undefined without TLS. */
  tlsCertificateExpiry?: () => number | undefined;
  /** Maintenance holds in force, read at scrape time. */
  activeHolds?: () => Promise<number>;
  /** The failover drills and their records, read at scrape time. */
  drills?: DrillMetricsSource;
  defaultMetrics?: boolean;
}): RemediatorMetrics {
  const { registry } = options;
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'remediator_' });
  const scrapeTimeoutMs = options.scrapeTimeoutMs ?? 5000;
  const queueCounts = options.queueCounts;
  new Gauge({
    name: 'remediator_queue_jobs',
    help: 'Remediation jobs in the queue by state, read at scrape time.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      if (!queueCounts) return;
      try {
        const counts = await withTimeout(queueCounts(), scrapeTimeoutMs);
        for (const state of queueStates) this.set({ state }, counts[state] ?? 0);
      } catch {
        // Redis is down: /metrics must still answer; remediator_redis_up says why the values are stale.
      }
    },
  });
  scrapeTimeGauge(registry, {
    name: 'remediator_paused',
    help: '1 while remediation is paused (the kill switch: POST /api/pause, or pausing the queue in the queue UI).',
    read: options.paused && (async () => ((await options.paused?.()) === true ? 1 : 0)),
    timeoutMs: scrapeTimeoutMs,
  });
  const alertValuesTruncated = new Counter({
    name: 'remediator_alert_values_truncated_total',
    help: 'Values cut to their size limit on intake, by kind (label, annotation, other: generatorURL, receiver, groupKey, externalURL).',
    labelNames: ['kind'],
    registers: [registry],
  });
  for (const kind of cutValueKinds) alertValuesTruncated.inc({ kind }, 0);
  const adminAuthFailures = new Counter({
    name: 'remediator_admin_auth_failures_total',
    help: "Failed logins on /api and /queues: invalid (wrong credentials) or throttled (refused unchecked during the client's backoff).",
    labelNames: ['reason'],
    registers: [registry],
  });
  const adminWritesRefused = new Counter({
    name: 'remediator_admin_writes_refused_total',
    help: 'State-changing admin requests refused: cross_site (another origin, or Sec-Fetch-Site not same-origin) or not_json (a body not declared as JSON).',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Present at 0 from start-up, so that increase() sees the first failure.
  for (const reason of adminAuthFailureReasons) adminAuthFailures.inc({ reason }, 0);
  for (const reason of adminWriteRefusalReasons) adminWritesRefused.inc({ reason }, 0);
  const silenceErrors = new Counter({
    name: 'remediator_silence_errors_total',
    help: "Failures to create, extend (a later attempt of the run) or expire a run's Alertmanager silence (playbook silence:); the run goes on without it.",
    labelNames: ['operation'],
    registers: [registry],
  });
  for (const operation of silenceOperations) silenceErrors.inc({ operation }, 0);
  const approvalLinkRequests = new Counter({
    name: 'remediator_approval_link_requests_total',
    help: 'Approval link pages (GET /approve/:token shows, POST decides) by what they answered: shown, decided, or the reason for refusing.',
    labelNames: ['method', 'outcome'],
    registers: [registry],
  });
  for (const method of ['GET', 'POST']) for (const outcome of approvalLinkOutcomes) approvalLinkRequests.inc({ method, outcome }, 0);
  const redisPing = options.redisPing;
  new Gauge({
    name: 'remediator_redis_up',
    help: "1 when remediator's Redis answered a PING during this scrape, 0 when it failed or did not answer in time.",
    registers: [registry],
    async collect() {
      if (!redisPing) return;
      try {
        await withTimeout(redisPing(), scrapeTimeoutMs);
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });
  scrapeTimeGauge(registry, {
    name: 'remediator_holds_active',
    help: 'Maintenance holds in force (POST /api/holds, remediator hold, the remediator.hold action), read at scrape time.',
    read: options.activeHolds,
    timeoutMs: scrapeTimeoutMs,
  });
  registerDrillMetrics(registry, options.drills, scrapeTimeoutMs);
  const tlsCertificateExpiry = options.tlsCertificateExpiry;
  new Gauge({
    name: 'remediator_tls_certificate_expiry_timestamp_seconds',
    help: 'When the certificate served over HTTPS expires (Unix seconds); absent without TLS. A renewal that could not be loaded keeps it old.',
    registers: [registry],
    collect() {
      const expiry = tlsCertificateExpiry?.();
      if (expiry !== undefined) this.set(expiry / 1000);
    },
  });
  const embeddedRedisRestarts = options.embeddedRedisRestarts;
  new Counter({
    name: 'remediator_embedded_redis_restarts_total',
    help: 'Times the embedded redis-server (serve without REDIS_URL) died and was started again; 0 with an external Redis.',
    registers: [registry],
    collect() {
      if (!embeddedRedisRestarts) return;
      // The supervisor counts; the counter shows its count (reset + inc: a prom-client counter has no set).
      this.reset();
      this.inc(embeddedRedisRestarts());
    },
  });
  return {
    registry,
    adminAuthFailures,
    adminWritesRefused,
    silenceErrors,
    approvalLinkRequests,
    reconcile: createReconcileMetrics(registry),
    webhookRequests: new Counter({
      name: 'remediator_webhook_requests_total',
      help: 'Alertmanager webhook requests by outcome.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    alertsReceived: new Counter({
      name: 'remediator_alerts_received_total',
      help: 'Alerts received in accepted webhooks, by alert status.',
      labelNames: ['status'],
      registers: [registry],
    }),
    alertsTruncated: new Counter({
      name: 'remediator_alerts_truncated_total',
      help: "Alerts Alertmanager left out of its notifications (truncatedAlerts, the webhook receiver's max_alerts): they produce no run.",
      registers: [registry],
    }),
    alertValuesTruncated,
    runsEnqueued: new Counter({
      name: 'remediator_runs_enqueued_total',
      help: 'Runs handed to the queue (a redelivered alert is enqueued again and deduplicated by job id).',
      labelNames: ['playbook'],
      registers: [registry],
    }),
    runs: new Counter({
      name: 'remediator_runs_total',
      help: 'Finished remediation runs by playbook and outcome (succeeded, failed, dry_run, cancelled, skipped).',
      labelNames: ['playbook', 'outcome'],
      registers: [registry],
    }),
    runsSkipped: new Counter({
      name: 'remediator_runs_skipped_total',
      help: 'Runs that did not act, by playbook and reason (hold, guard, cooldown, max-runs, blast-radius, concurrency, approval-rejected, approval-timeout).',
      labelNames: ['playbook', 'reason'],
      registers: [registry],
    }),
    stepDuration: new Histogram({
      name: 'remediator_step_duration_seconds',
      help: 'Duration of playbook steps by action and outcome.',
      labelNames: ['action', 'outcome'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    runDetection: runHistogram(
      registry,
      'remediator_run_detection_seconds',
      "Detection: from the alert's startsAt to the webhook reaching remediator, by playbook and run outcome.",
    ),
    runDispatch: runHistogram(
      registry,
      'remediator_run_dispatch_seconds',
      'Dispatch: from the webhook to the first step starting (includes waiting for the target, a slot or approval).',
    ),
    runAction: runHistogram(registry, 'remediator_run_action_seconds', 'Action: from the first step starting to the last step finishing.'),
    runRecovery: runHistogram(
      registry,
      'remediator_run_recovery_seconds',
      "Recovery (RTO): from the alert's startsAt to the verified recovery, the last step of a successful run.",
    ),
    rtoObjective: new Gauge({
      name: 'remediator_rto_objective_seconds',
      help: 'The RTO a playbook declares (rto:).',
      labelNames: ['playbook'],
      registers: [registry],
    }),
    rtoBreaches: new Counter({
      name: 'remediator_rto_breaches_total',
      help: 'Runs of a playbook with an rto: that recovered later than it, or failed.',
      labelNames: ['playbook'],
      registers: [registry],
    }),
    playbooksLoaded: new Gauge({
      name: 'remediator_playbooks_loaded',
      help: 'Playbooks loaded at start-up.',
      registers: [registry],
    }),
  };
}

/**
 * A gauge read from Redis when Prometheus scrapes: a read that fails or takes longer than `timeoutMs` keeps the
 * last value (/metrics must still answer; remediator_redis_up says why the value is stale).
 */
function scrapeTimeGauge(
  registry: Registry,
  options: { name: string; help: string; read: (() => Promise<number>) | undefined; timeoutMs: number },
): void {
  const { read } = options;
  new Gauge({
    name: options.name,
    help: options.help,
    registers: [registry],
    async collect() {
      if (!read) return;
      try {
        this.set(await withTimeout(read(), options.timeoutMs));
      } catch {
        // keep the last value
      }
    },
  });
}

/** Seconds from seconds to half an hour: a restart takes seconds, a failover with a `for: 15s` alert a minute or so. */
const runBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800];

function runHistogram(registry: Registry, name: string, help: string): Histogram<'playbook' | 'outcome'> {
  return new Histogram({ name, help, labelNames: ['playbook', 'outcome'], buckets: runBuckets, registers: [registry] });
}
