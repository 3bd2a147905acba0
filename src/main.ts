#!/usr/bin/env node
// The composition root: the only module that reads the environment and builds clients.
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createDefaultActions, type SecretRefReader } from './actions/index.js';
import { createPrimaryRecord, type PrimaryRecord } from './state/primary-record.js';
import { createRunMemory, type RunMemory } from './state/run-memory.js';
import { createTargetHolds, type TargetHolds } from './state/target-holds.js';
import type { SecretReader } from './inventory/load-inventory.js';
import { createProgram, type ExporterOptions, type ServeOptions } from './cli/program.js';
import type { AdminRequest } from './cli/admin-client.js';
import { runAdminCommand } from './cli/admin-command.js';
import { runHashPassword } from './cli/hash-password-command.js';
import { loadDevTools, type DevToolIo, type DevTools } from './cli/dev-tools.js';
import { reportPlaybookProblems, reportProblems } from './cli/report-problems.js';
import { describeConfig, loadConfig, type Config } from './config/index.js';
import { secretValues } from './config/secret-values.js';
import { errorCodes, errorMessage, isAppError } from './core/errors/index.js';
import { createDefaultCollectors } from './exporters/default-collectors.js';
import { createExporter } from './exporters/create-exporter.js';
import { createExporterApp } from './exporters/exporter-server.js';
import { createLogger } from './logging/create-logger.js';
import { createAlertmanagerSilences } from './reconcile/alertmanager-silences.js';
import { createReconcileSources } from './reconcile/reconcile-sources.js';
import { createPlaybookJsonSchema } from './playbooks/playbook-json-schema.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './redis/embedded-redis.js';
import { prepareEmbeddedRedisDir, type EmbeddedRedisDir } from './redis/embedded-redis-files.js';
import { createRedisConnections } from './redis/redis-connections.js';
import { redisTargetOf, type RedisTarget } from './redis/redis-target.js';
import { startService } from './service/create-service.js';
import { loadRemediations, readInventory } from './service/load-remediations.js';
import { loadAdminAccess } from './service/admin-access.js';
import { createPrometheusClient } from './promql/prometheus-client.js';
import { startHttpServer } from './tls/https-server.js';
import { serverTlsOf } from './tls/server-tls-config.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function readConfig(): Config {
  const result = loadConfig(process.env, (path) => readFileSync(path, 'utf8'));
  if (!result.success) {
    process.stderr.write(`remediator: ${result.error}\n`);
    process.exit(2);
  }
  return result.data;
}

/** Resolves a secret reference (an environment variable or a file) at the time it is needed. */
const readSecretRef: SecretRefReader = (reference) => {
  if ('env' in reference) {
    const value = process.env[reference.env];
    if (value === undefined || value === '') throw new Error(`${reference.env} is not set`);
    return value;
  }
  try {
    return readFileSync(reference.file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new Error(`cannot read ${reference.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
};

/** Resolves an inventory password reference. */
const readSecret: SecretReader = ({ passwordEnv, passwordFile }) => {
  if (passwordEnv !== undefined) return readSecretRef({ env: passwordEnv });
  if (passwordFile !== undefined) return readSecretRef({ file: passwordFile });
  throw new Error('no password reference');
};

/**
 * Loads the inventory, builds the actions on it and loads the playbooks and drills; every problem at once.
 * The run state is only needed when runs execute (serve), not to validate.
 */
function loadDefinitions(
  config: Config,
  remediationsDir: string,
  state?: { primaryRecord: PrimaryRecord; runMemory: RunMemory; holds: TargetHolds },
) {
  return loadRemediations(config, remediationsDir, {
    readSecret,
    readSecretRef,
    path: process.env.PATH,
    cwd: process.cwd(),
    ...(state ? { state } : {}),
  });
}

async function validate(dir: string | undefined): Promise<void> {
  const config = readConfig();
  const result = await loadDefinitions(config, dir ?? config.REMEDIATIONS_DIR);
  if (!result.success) {
    reportPlaybookProblems(result.problems);
    process.exitCode = 1;
    return;
  }
  const clusters = [...result.inventory.clusters.keys()];
  process.stdout.write(`${result.playbooks.length} playbook(s) OK: ${result.playbooks.map((playbook) => playbook.name).join(', ')}\n`);
  process.stdout.write(`inventory: ${clusters.length === 0 ? 'none' : `${clusters.length} cluster(s): ${clusters.join(', ')}`}\n`);
  if (result.drills.length > 0)
    process.stdout.write(
      `${result.drills.length} drill(s): ${result.drills.map((drill) => `${drill.name} (${drill.kind} of ${drill.cluster})`).join(', ')}\n`,
    );
}

/** DATA_DIR/redis made private, and the embedded Redis's password; exit 1 when that fails. */
async function prepareEmbeddedRedisDirOrExit(dataDir: string): Promise<EmbeddedRedisDir> {
  try {
    return await prepareEmbeddedRedisDir(dataDir);
  } catch (error) {
    process.stderr.write(`remediator: ${dataDir}: ${errorMessage(error)}\n`);
    process.exit(1);
  }
}

async function serve(options: ServeOptions): Promise<void> {
  const config = readConfig();
  // Before anything starts: a bad certificate or key refuses to start, saying which file and why.
  const tls = serverTlsOf(config, (path) => readFileSync(path));
  // Playbooks are checked before Redis is up; failover actions reach Redis only when a run executes.
  const redis: { producer?: Redis } = {};
  const connected = () => {
    if (!redis.producer) throw new Error('Redis is not connected yet');
    return redis.producer;
  };
  const holds = createTargetHolds(connected);
  const primaryRecord = createPrimaryRecord(connected);
  const loaded = await loadDefinitions(config, config.REMEDIATIONS_DIR, {
    primaryRecord,
    runMemory: createRunMemory(connected),
    holds,
  });
  if (!loaded.success) {
    reportPlaybookProblems(loaded.problems);
    process.exit(1);
  }
  const { playbooks, actions, inventory, builtInPlaybooks, drills } = loaded;
  const admins = await loadAdminAccess(config);
  if (!admins.success) {
    reportProblems(admins.problems, { in: 'USERS_FILE', consequence: 'refusing to start' });
    process.exit(1);
  }
  // REDIS_URL or REDIS_SENTINELS (the primary Sentinel names); neither: a private redis-server, whose password is
  // read (or made) before the logger exists so that the logger masks it from the first line.
  const configuredRedis = redisTargetOf(config);
  const redisPlan =
    configuredRedis === undefined ? { embedded: await prepareEmbeddedRedisDirOrExit(config.DATA_DIR) } : { target: configuredRedis };
  const secrets = secretValues(config, [
    ...[...inventory.clusters.values()].map((cluster) => cluster.password),
    'embedded' in redisPlan ? redisPlan.embedded.password : undefined,
  ]);
  const logger = createLogger({ level: config.LOG_LEVEL, secrets });
  if (config.WEBHOOK_TOKEN === undefined) logger.warn('WEBHOOK_TOKEN is not set: the webhook accepts unauthenticated requests');
  const uses = (action: string) => playbooks.some((playbook) => playbook.steps.some((step) => step.action === action));
  if (uses('email') && config.SMTP_URL === undefined) logger.warn('a playbook sends email but SMTP_URL is not set: those steps will fail');
  if (uses('promql.wait') && config.PROMETHEUS_URL === undefined)
    logger.warn('a playbook waits on PromQL but PROMETHEUS_URL is not set: those steps will fail');
  if (playbooks.some((playbook) => playbook.guards.length > 0) && config.PROMETHEUS_URL === undefined)
    logger.warn('a playbook has guards but PROMETHEUS_URL is not set: its runs will be skipped (guards fail closed)');
  if (playbooks.some((playbook) => playbook.approval?.linkUser !== undefined) && config.APPROVAL_LINK_KEY === undefined)
    logger.warn('a playbook sends approval links but APPROVAL_LINK_KEY is not set: its notify steps that carry them will fail');
  if (drills.length > 0 && config.RECONCILE_INTERVAL === 0)
    logger.warn('drills are configured but RECONCILE_INTERVAL=0: the reconcile loop starts them, so none will run');

  let embedded: EmbeddedRedis | undefined;
  // Until the service runs there is nothing to drain; then a dead embedded Redis that cannot be started again
  // ends the process through the ordinary shutdown.
  let giveUp: () => void = () => {
    process.exit(1);
  };
  let redisTarget: RedisTarget;
  if ('embedded' in redisPlan) {
    try {
      // Exit non-zero when it gives up, so that the process supervisor (systemd, Docker, Kubernetes) starts remediator again.
      embedded = await startEmbeddedRedis({
        ...redisPlan.embedded,
        logger,
        onGiveUp: () => {
          giveUp();
        },
      });
    } catch (error) {
      process.stderr.write(`remediator: ${errorMessage(error)}\n`);
      process.exit(isAppError(error, errorCodes.REDIS_BINARY_MISSING) ? 3 : 1);
    }
    redisTarget = embedded.url;
  } else {
    redisTarget = redisPlan.target;
  }
  const connections = createRedisConnections(redisTarget, { commandTimeoutMs: config.REDIS_TIMEOUT_MS, logger });
  redis.producer = connections.producer;
  await connections.ready(config.REDIS_TIMEOUT_MS);

  logger.info({ config: describeConfig(config), playbooks: playbooks.map((playbook) => playbook.name), version }, 'starting remediator');
  const service = await startService(
    {
      host: config.HOST,
      port: config.PORT,
      queueName: config.QUEUE_NAME,
      webhookToken: config.WEBHOOK_TOKEN,
      webhookUser: config.WEBHOOK_USER,
      adminUser: config.ADMIN_USER,
      adminPassword: config.ADMIN_PASSWORD,
      ...admins.access,
      adminAllowedOrigins: config.ADMIN_ALLOWED_ORIGINS,
      bodyLimit: config.WEBHOOK_BODY_LIMIT,
      maxAlerts: config.WEBHOOK_MAX_ALERTS,
      valueLimits: {
        labelBytes: config.WEBHOOK_LABEL_VALUE_LIMIT,
        annotationBytes: config.WEBHOOK_ANNOTATION_VALUE_LIMIT,
        alertBytes: config.WEBHOOK_ALERT_VALUES_LIMIT,
      },
      dryRun: config.DRY_RUN,
      retentionMs: config.RUN_RETENTION,
      redisTimeoutMs: config.REDIS_TIMEOUT_MS,
      concurrency: config.WORKER_CONCURRENCY,
      lockDurationMs: config.WORKER_LOCK_MS,
      stalledIntervalMs: config.WORKER_STALLED_INTERVAL_MS,
      targetLockTtlMs: config.TARGET_LOCK_TTL_MS,
      maxConcurrentRuns: config.MAX_CONCURRENT_RUNS,
      concurrencyExceeded: config.CONCURRENCY_EXCEEDED,
      maxTargets: config.BLAST_RADIUS_MAX_TARGETS,
      targetsWindowMs: config.BLAST_RADIUS_WINDOW,
      api: options.api,
      worker: options.worker,
      ...(config.APPROVAL_LINK_KEY && config.PUBLIC_URL
        ? { approvalLinks: { key: config.APPROVAL_LINK_KEY, publicUrl: config.PUBLIC_URL } }
        : {}),
      ...(tls ? { tls } : {}),
      ...(config.RECONCILE_INTERVAL > 0
        ? {
            reconcile: {
              intervalMs: config.RECONCILE_INTERVAL,
              leaseTtlMs: config.RECONCILE_LEASE_TTL,
              alertmanagerWarmupMs: config.RECONCILE_ALERTMANAGER_WARMUP,
              recheckAfterMs: config.RECONCILE_RECHECK_AFTER,
            },
          }
        : {}),
    },
    {
      producerConnection: connections.producer,
      workerConnection: connections.worker,
      registry: new Registry(),
      logger,
      actions,
      playbooks,
      holds,
      builtInPlaybooks,
      drills,
      clusters: inventory.clusters,
      reconcile: createReconcileSources({
        alertmanagerUrls: config.ALERTMANAGER_URL,
        ...(config.ALERTMANAGER_RECEIVER === undefined ? {} : { receiver: config.ALERTMANAGER_RECEIVER }),
        intervalMs: config.RECONCILE_INTERVAL,
        inventory,
        record: primaryRecord,
        probeTimeoutMs: config.EXPORTER_PROBE_TIMEOUT_MS,
        logger,
      }),
      ...(embedded === undefined ? {} : { embeddedRedisRestarts: () => embedded.restarts }),
      // A silence is made before the first step: an Alertmanager slower than this counts as unreachable (it delays a run no more).
      silences: config.ALERTMANAGER_URL.map((url) => createAlertmanagerSilences({ url, timeoutMs: 2000 })),
      ...(config.PROMETHEUS_URL === undefined ? {} : { prometheus: createPrometheusClient({ baseUrl: config.PROMETHEUS_URL }) }),
    },
  );

  let stopping = false;
  const shutdown = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down: stop accepting, drain running steps, close');
    // If Redis vanished too, closing BullMQ can wait forever; the checkpoints make a hard exit safe.
    const hardExitMs = config.SHUTDOWN_TIMEOUT + 10_000;
    setTimeout(() => {
      logger.error({ hardExitMs }, 'shutdown did not finish in time; exiting');
      logger.flush();
      process.exit(1);
    }, hardExitMs).unref();
    await service.close(config.SHUTDOWN_TIMEOUT);
    connections.close();
    await embedded?.stop();
    logger.info('stopped');
    process.exit(exitCode);
  };
  giveUp = () => void shutdown('the embedded Redis cannot be started again', 1);
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  // A renewed certificate is picked up by the reload timer; SIGHUP picks it up at once.
  process.on('SIGHUP', () => service.reloadTls());
}

/** `remediator exporter`: probes the inventory's members when Prometheus scrapes /metrics; no Redis, no playbooks. */
async function exporter(options: ExporterOptions): Promise<void> {
  const config = readConfig();
  const loaded = await readInventory(config, config.REMEDIATIONS_DIR, { readSecret, cwd: process.cwd() });
  if (!loaded.success) {
    reportProblems(loaded.problems, { in: 'the inventory', consequence: 'refusing to start' });
    process.exit(1);
  }
  const { inventory } = loaded;
  const secrets = [...inventory.clusters.values()]
    .map((cluster) => cluster.password)
    .filter((secret): secret is string => secret !== undefined && secret !== '');
  const logger = createLogger({ level: config.LOG_LEVEL, secrets });
  const registry = new Registry();
  const scraper = createExporter({
    inventory,
    registry,
    collectors: createDefaultCollectors(),
    probeTimeoutMs: config.EXPORTER_PROBE_TIMEOUT_MS,
    logger,
  });
  const host = options.host ?? config.HOST;
  const tls = serverTlsOf(config, (path) => readFileSync(path), { clientCertificates: false });
  const { server, url } = await startHttpServer(createExporterApp({ registry, exporter: scraper }), {
    host,
    port: options.port ?? config.EXPORTER_PORT,
    logger,
    ...(tls ? { tls } : {}),
  });
  logger.info({ url: `${url}/metrics`, clusters: [...inventory.clusters.keys()], version }, 'exporter listening');

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'exporter shutting down');
    // A scrape in flight ends within the probe timeout; the connections of idle scrapers are simply closed.
    server.close(() => {
      logger.flush();
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
    }, config.EXPORTER_PROBE_TIMEOUT_MS + 1000).unref();
  };
  process.once('SIGINT', () => {
    shutdown('SIGINT');
  });
  process.once('SIGTERM', () => {
    shutdown('SIGTERM');
  });
}

/** A CLI admin command against REMEDIATOR_URL (default this machine's PORT), as ADMIN_USER. */
async function admin(request: AdminRequest): Promise<void> {
  const config = readConfig();
  const baseUrl = config.REMEDIATOR_URL ?? `http://127.0.0.1:${config.PORT}`;
  process.exitCode = await runAdminCommand({ baseUrl, user: config.ADMIN_USER, password: config.ADMIN_PASSWORD }, request, process);
}

async function schema(): Promise<void> {
  const actions = createDefaultActions({ smtpUrl: undefined, smtpFrom: 'remediator@localhost', prometheusUrl: undefined, path: undefined });
  process.stdout.write(`${JSON.stringify(createPlaybookJsonSchema(actions), null, 2)}\n`);
  return Promise.resolve();
}

/** Runs a dev-time command from tools/ (absent from the service image) with this process as its world. */
async function devTool(command: string, run: (tools: DevTools, io: DevToolIo) => Promise<number>): Promise<void> {
  let stop: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => {
    stop = resolve;
  });
  process.once('SIGINT', () => {
    stop();
  });
  process.once('SIGTERM', () => {
    stop();
  });
  const tools = await loadDevTools(command);
  process.exitCode = await run(tools, {
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    // This same program, run the same way (tsx or node on dist/), for `serve` and `exporter`.
    self: { command: process.execPath, args: [...process.execArgv, process.argv[1] ?? ''] },
    stopRequested,
  });
}

const program = createProgram(
  {
    serve,
    exporter,
    validate,
    schema,
    lint: (dir) => devTool('lint', (tools, io) => tools.lint(dir, io)),
    demo: (options) => devTool('demo', (tools, io) => tools.demo(options, io)),
    dashboardsGenerate: (options) => devTool('dashboards generate', (tools, io) => tools.dashboardsGenerate(options, io)),
    sloGenerate: (options) => devTool('slo generate', (tools, io) => tools.sloGenerate(options, io)),
    test: (files) => devTool('test', (tools, io) => tools.test(files, io)),
    admin,
    hashPassword: async () => {
      process.exitCode = await runHashPassword(process);
    },
  },
  version,
);
program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`remediator: ${errorMessage(error)}\n`);
  process.exit(1);
});
