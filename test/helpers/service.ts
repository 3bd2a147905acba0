import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createTargetHolds } from '../../src/state/target-holds.js';
import { createPrimaryRecord } from '../../src/state/primary-record.js';
import type { Inventory } from '../../src/inventory/inventory.js';
import { loadBuiltInPlaybooks } from '../../src/reconcile/built-in-playbooks.js';
import { createReconcileSources } from '../../src/reconcile/reconcile-sources.js';
import { createAlertmanagerSilences } from '../../src/reconcile/alertmanager-silences.js';
import type { ReconcileSettings } from '../../src/reconcile/start-reconcile.js';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import type { ActionRegistry } from '../../src/core/action-registry.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createPrometheusClient } from '../../src/promql/prometheus-client.js';
import { loadPlaybooks } from '../../src/playbooks/load-playbooks.js';
import { createRedisConnections } from '../../src/redis/redis-connections.js';
import type { LoginThrottle } from '../../src/http/login-throttle.js';
import { startService, type RemediatorService, type ServiceSettings } from '../../src/service/create-service.js';
import { tempDir } from './temp-dir.js';

/** An in-process remediator on a real Redis, with its JSON log lines captured. */
export interface TestService {
  readonly url: string;
  readonly service: RemediatorService;
  readonly queueName: string;
  readonly logs: Record<string, unknown>[];
  readonly rawLogs: () => string;
  close(): Promise<void>;
}

/** Writes `playbooks` (file name → YAML) to a temp dir. */
export async function writePlaybooks(playbooks: Record<string, string>): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await tempDir('remediator-playbooks-');
  await mkdir(dir.path, { recursive: true });
  for (const [name, text] of Object.entries(playbooks)) await writeFile(join(dir.path, name), text);
  return { dir: dir.path, remove: dir.remove };
}

/**
 * Starts remediator in this process the way main.ts does, on its own queue (`test-<uuid>`), so tests sharing
 * a Redis never see each other's jobs. Pass `queueName` to start a second replica on the same queue.
 */
export async function startTestService(options: {
  redisUrl: string;
  playbooks: Record<string, string>;
  settings?: Partial<ServiceSettings>;
  actions?: ActionRegistry;
  smtpUrl?: string;
  prometheusUrl?: string;
  secrets?: string[];
  /** The backoff of failed admin logins, and the clock of the default one and of its log line. */
  loginThrottle?: LoginThrottle;
  now?: () => number;
  /** The clusters failover actions (and the reconcile loop) act on; the primary record is remediator's, in this Redis. */
  inventory?: Inventory;
  /** The Alertmanagers where playbooks' `silence:` is created (ALERTMANAGER_URL). */
  silenceAlertmanagers?: string[];
  /** Runs the reconcile loop, reading these Alertmanagers (and the inventory's roles). */
  reconcile?: ReconcileSettings & { alertmanagers?: string[]; probeTimeoutMs?: number };
}): Promise<TestService> {
  let raw = '';
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const text = chunk.toString();
      raw += text;
      for (const line of text.split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', destination, ...(options.secrets ? { secrets: options.secrets } : {}) });
  const files = await writePlaybooks(options.playbooks);
  // As in main.ts: actions are built before the connection exists and reach Redis only when a run executes.
  const redis: { producer?: Redis } = {};
  const connected = () => {
    if (!redis.producer) throw new Error('not connected');
    return redis.producer;
  };
  const holds = createTargetHolds(connected);
  const primaryRecord = createPrimaryRecord(connected);
  const actions =
    options.actions ??
    createDefaultActions({
      smtpUrl: options.smtpUrl,
      smtpFrom: 'remediator@test',
      prometheusUrl: options.prometheusUrl,
      path: process.env.PATH,
      holds,
      ...(options.inventory ? { inventory: options.inventory, primaryRecord } : {}),
    });
  const loaded = await loadPlaybooks(files.dir, actions);
  if (!loaded.success) throw new Error(`test playbooks invalid: ${JSON.stringify(loaded.problems)}`);
  const builtIn = loadBuiltInPlaybooks(options.inventory?.clusters.values() ?? [], actions, loaded.playbooks);
  if (builtIn.problems.length > 0) throw new Error(`built-in playbooks invalid: ${JSON.stringify(builtIn.problems)}`);
  const connections = createRedisConnections(options.redisUrl, { commandTimeoutMs: 1000, logger });
  redis.producer = connections.producer;
  await connections.ready(5000);
  const queueName = options.settings?.queueName ?? `test-${randomUUID()}`;
  const service = await startService(
    {
      host: '127.0.0.1',
      port: 0,
      queueName,
      webhookToken: undefined,
      webhookUser: undefined,
      adminUser: 'admin',
      adminPassword: undefined,
      adminAllowedOrigins: [],
      bodyLimit: 1024 * 1024,
      maxAlerts: 10_000,
      valueLimits: { labelBytes: 4 * 1024, annotationBytes: 16 * 1024, alertBytes: 64 * 1024 },
      dryRun: false,
      retentionMs: 86_400_000,
      redisTimeoutMs: 1000,
      concurrency: 4,
      lockDurationMs: 5000,
      stalledIntervalMs: 1000,
      targetLockTtlMs: 5000,
      maxConcurrentRuns: 0,
      concurrencyExceeded: 'wait',
      maxTargets: 0,
      targetsWindowMs: 3_600_000,
      api: true,
      worker: true,
      ...(options.reconcile ? { reconcile: options.reconcile } : {}),
      ...options.settings,
    },
    {
      producerConnection: connections.producer,
      workerConnection: connections.worker,
      registry: new Registry(),
      logger,
      actions,
      playbooks: loaded.playbooks,
      holds,
      builtInPlaybooks: builtIn.playbooks,
      ...(options.inventory ? { clusters: options.inventory.clusters } : {}),
      ...(options.reconcile
        ? {
            reconcile: createReconcileSources({
              alertmanagerUrls: options.reconcile.alertmanagers ?? [],
              intervalMs: options.reconcile.intervalMs,
              inventory: options.inventory ?? { file: undefined, clusters: new Map() },
              record: primaryRecord,
              probeTimeoutMs: options.reconcile.probeTimeoutMs ?? 300,
              logger,
            }),
          }
        : {}),
      ...(options.loginThrottle ? { loginThrottle: options.loginThrottle } : {}),
      ...(options.silenceAlertmanagers
        ? { silences: options.silenceAlertmanagers.map((url) => createAlertmanagerSilences({ url, timeoutMs: 2000 })) }
        : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.prometheusUrl === undefined ? {} : { prometheus: createPrometheusClient({ baseUrl: options.prometheusUrl }) }),
    },
  );
  return {
    url: service.url ?? '',
    service,
    queueName,
    logs,
    rawLogs: () => raw,
    async close() {
      await service.close(2000);
      connections.close();
      await files.remove();
    },
  };
}
