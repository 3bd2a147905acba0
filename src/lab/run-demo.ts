import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parseInfo } from '../actions/redis-failover-action.js';
import { findExecutable } from '../redis/embedded-redis.js';
import { freePort } from '../util/free-port.js';
import { sleep } from '../util/sleep.js';
import { waitUntil } from '../util/wait-until.js';
import { labAlertmanagerConfig, labPrometheusConfig } from './lab-config.js';
import { startManagedProcess, type ManagedProcess } from './managed-process.js';

/** One moment of the demo's timeline, in seconds after the fault. */
export interface DemoEvent {
  at: string;
  seconds: number;
  what: string;
}

/** What `remediator demo --json` prints. */
export interface DemoSummary {
  rtoSeconds: number;
  detectionSeconds: number;
  dispatchSeconds: number;
  oldPrimary: string;
  newPrimary: string;
  runId: string;
  /** Remediation runs for the failover playbook (exactly one is right). */
  failoverRuns: number;
  alertFromAlertmanager: boolean;
  newPrimaryAcceptsWrites: boolean;
  oldPrimaryFenced: boolean;
  steps: { name: string; status: string; durationMs: number | undefined }[];
  events: DemoEvent[];
  urls: Record<string, string>;
}

/** How the demo runs remediator itself (this same program) and where the repository's files are. */
export interface DemoOptions {
  root: string;
  self: { command: string; args: string[] };
  once: boolean;
  /** Progress lines (stderr with --json, so stdout stays one JSON line). */
  log: (line: string) => void;
  /** Resolves when the user asks to stop (Ctrl-C); only awaited without --once. */
  stopRequested: Promise<void>;
  /** Receives the summary as soon as the recovery is measured, before the lab keeps running. */
  report: (summary: DemoSummary) => void;
}

const members = ['cache-a', 'cache-b', 'cache-c'] as const;
const playbook = 'redis-primary-failover';
const missingBinaries = (names: string[]) =>
  `missing ${names.join(', ')}: run \`npm run demo\` as root (it installs them), or apt-get install --no-install-recommends redis-server prometheus prometheus-alertmanager`;

interface RunView {
  id: string;
  playbook: string;
  phase: string;
  state: string;
  receiver: string;
  alert: { startsAt: string };
  steps: { name: string; status: string; startedAt: string; finishedAt?: string; durationMs?: number }[];
  timeline: { alertStartsAt: string; receivedAt: string; queuedAt: string; startedAt?: string; finishedAt?: string };
}

/**
 * The live lab: a password-protected Redis primary with two replicas, `remediator exporter`, real Prometheus and
 * Alertmanager (configs derived from prometheus/ with 1 s intervals) and `remediator serve` on its embedded Redis,
 * all on loopback in a temp dir. It kills the primary, follows the alert through Alertmanager to the failover
 * run, measures RTO as fault → first write accepted by the new primary, then revives the old primary and waits
 * until it is fenced. Every process is stopped at the end.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const binaries = {
    redis: await findExecutable('redis-server'),
    prometheus: await findExecutable('prometheus'),
    alertmanager: await findExecutable('prometheus-alertmanager'),
  };
  const missing = Object.entries(binaries).filter(([, path]) => path === undefined).map(([name]) => name);
  if (missing.length > 0) throw new Error(missingBinaries(missing));

  const dir = await mkdtemp(join(tmpdir(), 'remediator-lab-'));
  const processes: ManagedProcess[] = [];
  const clients: Redis[] = [];
  const say = options.log;
  try {
    const password = randomBytes(12).toString('hex');
    const token = randomBytes(16).toString('hex');
    const adminPassword = randomBytes(8).toString('hex');
    await writeFile(join(dir, 'redis-password'), password);
    await writeFile(join(dir, 'webhook-token'), token);
    const ports = {
      redis: await Promise.all(members.map(() => freePort())),
      exporter: await freePort(),
      prometheus: await freePort(),
      alertmanager: await freePort(),
      remediator: await freePort(),
    };
    const address = (index: number) => `127.0.0.1:${ports.redis[index] ?? 0}`;
    const urls = {
      queueUi: `http://127.0.0.1:${ports.remediator}/queues`,
      runs: `http://127.0.0.1:${ports.remediator}/api/runs`,
      metrics: `http://127.0.0.1:${ports.remediator}/metrics`,
      prometheus: `http://127.0.0.1:${ports.prometheus}`,
      alertmanager: `http://127.0.0.1:${ports.alertmanager}`,
      exporter: `http://127.0.0.1:${ports.exporter}/metrics`,
    };

    // 1. Redis: cache-a primary, cache-b (preferred) and cache-c replicas, all requiring a password.
    const startRedis = (index: number) => {
      const name = members[index] ?? 'cache';
      const args = [
        '--bind', '127.0.0.1', '--port', String(ports.redis[index]), '--dir', join(dir, name),
        '--appendonly', 'yes', '--save', '', '--requirepass', password, '--masterauth', password,
        '--shutdown-timeout', '0', '--repl-diskless-sync-delay', '0', '--daemonize', 'no',
        ...(index === 0 ? [] : ['--replicaof', '127.0.0.1', String(ports.redis[0])]),
      ];
      const server = startManagedProcess(name, binaries.redis ?? 'redis-server', args);
      processes.push(server);
      return server;
    };
    for (const name of members) await mkdir(join(dir, name));
    const redisServers = members.map((_name, index) => startRedis(index));
    const client = (index: number) => {
      const connection = new Redis({ host: '127.0.0.1', port: ports.redis[index] ?? 0, password, lazyConnect: true, connectTimeout: 300, commandTimeout: 300, maxRetriesPerRequest: 0, retryStrategy: () => 200, enableOfflineQueue: false });
      connection.on('error', () => undefined);
      clients.push(connection);
      return connection;
    };
    const probes = members.map((_name, index) => client(index));
    const info = async (index: number) => {
      const connection = probes[index];
      if (!connection) return undefined;
      if (connection.status === 'wait' || connection.status === 'end') await connection.connect().catch(() => undefined);
      return parseInfo(await connection.info('replication'));
    };
    say('starting Redis: cache-a (primary), cache-b, cache-c (replicas)…');
    await waitUntil('the Redis replicas to sync', async () => {
      const states = await Promise.all([1, 2].map((index) => info(index)));
      return states.every((state) => state?.get('master_link_status') === 'up');
    }, 20_000, 100);

    // 2. remediator's own files: the inventory of the lab and the shipped failover playbook.
    const remediations = join(dir, 'remediations');
    await mkdir(remediations);
    await writeFile(
      join(remediations, 'inventory.yaml'),
      `clusters:\n  cache:\n    kind: redis\n    credentials: { passwordFile: ${join(dir, 'redis-password')} }\n    members:\n${members.map((name, index) => `      - { name: ${name}, address: ${address(index)}${name === 'cache-b' ? ', priority: 10' : ''} }`).join('\n')}\n`,
    );
    await writeFile(join(remediations, `${playbook}.yaml`), await readFile(join(options.root, 'remediations', `${playbook}.yaml`), 'utf8'));

    // 3. remediator serve (embedded Redis) and remediator exporter.
    const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, LOG_LEVEL: 'warn' };
    const remediator = startManagedProcess('remediator', options.self.command, [...options.self.args, 'serve'], {
      cwd: options.root,
      env: {
        ...baseEnv,
        PORT: String(ports.remediator),
        DATA_DIR: join(dir, 'remediator'),
        REMEDIATIONS_DIR: remediations,
        PROMETHEUS_URL: urls.prometheus,
        WEBHOOK_TOKEN_FILE: join(dir, 'webhook-token'),
        ADMIN_PASSWORD: adminPassword,
      },
    });
    processes.push(remediator);
    const exporter = startManagedProcess('exporter', options.self.command, [...options.self.args, 'exporter', '--port', String(ports.exporter)], {
      cwd: options.root,
      env: { ...baseEnv, INVENTORY_FILE: join(remediations, 'inventory.yaml'), EXPORTER_PROBE_TIMEOUT_MS: '500' },
    });
    processes.push(exporter);

    // 4. Prometheus and Alertmanager, configured from prometheus/ with lab timings.
    const ruleFiles = (await readdir(join(options.root, 'rules'))).filter((name) => name.endsWith('.yml')).map((name) => join(options.root, 'rules', name));
    await writeFile(
      join(dir, 'prometheus.yml'),
      labPrometheusConfig(await readFile(join(options.root, 'prometheus', 'prometheus.yml'), 'utf8'), {
        ruleFiles,
        alertmanager: `127.0.0.1:${ports.alertmanager}`,
        targets: {
          prometheus: `127.0.0.1:${ports.prometheus}`,
          remediator: `127.0.0.1:${ports.remediator}`,
          'remediator-exporter': `127.0.0.1:${ports.exporter}`,
        },
      }),
    );
    await writeFile(
      join(dir, 'alertmanager.yml'),
      labAlertmanagerConfig(await readFile(join(options.root, 'prometheus', 'alertmanager.yml'), 'utf8'), {
        webhookUrl: `http://127.0.0.1:${ports.remediator}/webhooks/alertmanager`,
        tokenFile: join(dir, 'webhook-token'),
      }),
    );
    processes.push(
      startManagedProcess('alertmanager', binaries.alertmanager ?? 'prometheus-alertmanager', [
        `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'alertmanager')}`,
        `--web.listen-address=127.0.0.1:${ports.alertmanager}`, '--cluster.listen-address=', '--log.level=warn',
      ]),
      startManagedProcess('prometheus', binaries.prometheus ?? 'prometheus', [
        `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prometheus')}`,
        `--web.listen-address=127.0.0.1:${ports.prometheus}`, '--log.level=warn',
      ]),
    );

    const alive = () => {
      const dead = processes.find((process) => !process.running() && redisServers.every((server) => server !== process));
      if (dead) throw new Error(`${dead.name} exited:\n${dead.output().slice(-2000)}`);
    };
    say('waiting for remediator, the exporter, Prometheus and Alertmanager…');
    await waitUntil('remediator to be ready', async () => { alive(); return (await fetch(`http://127.0.0.1:${ports.remediator}/readyz`)).ok; }, 60_000, 200);
    say('  remediator ready');
    await waitUntil('Prometheus to scrape every target', async () => {
      alive();
      const body = (await (await fetch(`${urls.prometheus}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string }[] } };
      return body.data.activeTargets.length === 3 && body.data.activeTargets.every((target) => target.health === 'up');
    }, 60_000, 250);
    say('  Prometheus scrapes remediator, the exporter and itself');
    await waitUntil('Prometheus to find Alertmanager', async () => {
      const body = (await (await fetch(`${urls.prometheus}/api/v1/alertmanagers`)).json()) as { data: { activeAlertmanagers: unknown[] } };
      return body.data.activeAlertmanagers.length > 0;
    }, 60_000, 250);
    await waitUntil('the exporter to report the primary', async () => {
      const body = (await (await fetch(`${urls.prometheus}/api/v1/query?query=${encodeURIComponent('remediator_member_up{cluster="cache",role="primary"} == 1')}`)).json()) as { data: { result: unknown[] } };
      return body.data.result.length === 1;
    }, 60_000, 250);
    say('  Alertmanager discovered; the exporter sees cache-a as primary');

    // 5. The write probe: every 50 ms, try a write on every member; remember when each first succeeds.
    const writes = new Map<string, number[]>();
    const probe = { running: true };
    const probeLoop = (async () => {
      let counter = 0;
      while (probe.running) {
        counter++;
        await Promise.all(members.map(async (name, index) => {
          const connection = probes[index];
          if (!connection) return;
          try {
            if (connection.status === 'wait' || connection.status === 'end') await connection.connect();
            await connection.set('remediator:demo:probe', String(counter));
            const list = writes.get(name) ?? [];
            list.push(Date.now());
            writes.set(name, list);
          } catch {
            // down, or a replica refusing writes (READONLY): exactly what the probe measures
          }
        }));
        await sleep(50);
      }
    })();

    // 6. The fault.
    const faultAt = Date.now();
    const events: DemoEvent[] = [];
    const note = (what: string, at: number) => {
      events.push({ at: new Date(at).toISOString(), seconds: Math.round((at - faultAt) / 10) / 100, what });
    };
    say('FAULT: SIGKILL of the primary cache-a');
    await redisServers[0]?.kill();
    note('fault: cache-a (primary) killed', faultAt);

    const admin = { authorization: `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}` };
    const runsOf = async () => ((await (await fetch(`${urls.runs}?limit=50`, { headers: admin })).json()) as { runs: RunView[] }).runs;
    const failover = await waitUntil('the failover run to finish', async () => {
      alive();
      const runs = (await runsOf()).filter((run) => run.playbook === playbook && run.phase === 'remediate');
      const finished = runs.find((run) => run.state === 'completed' || run.state === 'failed');
      return finished;
    }, 180_000, 250);
    if (failover.state !== 'completed') throw new Error(`the failover run ${failover.id} failed: ${JSON.stringify(failover.steps)}`);
    const newPrimary = await waitUntil('a new primary to accept a write', () => members.find((name) => name !== 'cache-a' && (writes.get(name) ?? []).some((at) => at > faultAt)), 30_000, 50);
    const firstWrite = (writes.get(newPrimary) ?? []).find((at) => at > faultAt) ?? Date.now();
    note('alert firing (Prometheus startsAt)', Date.parse(failover.timeline.alertStartsAt));
    note('webhook received from Alertmanager', Date.parse(failover.timeline.receivedAt));
    if (failover.timeline.startedAt) note('run started', Date.parse(failover.timeline.startedAt));
    for (const step of failover.steps) if (step.finishedAt) note(`step ${step.name} ${step.status}`, Date.parse(step.finishedAt));
    note(`first write accepted by ${newPrimary}`, firstWrite);
    say(`failover done: ${newPrimary} is primary`);

    // 7. The old primary comes back: the resolved alert's failback fences it.
    say('reviving cache-a: it must come back as a replica, not a second primary');
    const revivedAt = Date.now();
    redisServers[0] = startRedis(0);
    note('cache-a restarted', revivedAt);
    const fencedAt = await waitUntil('cache-a to be fenced', async () => ((await info(0))?.get('role') === 'slave' ? Date.now() : undefined), 120_000, 100)
      .catch(() => undefined);
    if (fencedAt !== undefined) note('cache-a fenced (now a replica)', fencedAt);
    probe.running = false;
    await probeLoop;

    const runs = await runsOf();
    // The fence came from InstanceDown resolving for cache-a: its resolved notification started the failback run.
    const failback = runs.find((run) => run.playbook === playbook && run.phase === 'failback');
    if (failback) note('InstanceDown resolved for cache-a (webhook received)', Date.parse(failback.timeline.receivedAt));
    const newPrimaryIndex = members.indexOf(newPrimary);
    const accepts = await probes[newPrimaryIndex]?.set('remediator:demo:after', '1').then(() => true, () => false);
    events.sort((a, b) => a.seconds - b.seconds);
    const summary: DemoSummary = {
      rtoSeconds: (firstWrite - faultAt) / 1000,
      detectionSeconds: (Date.parse(failover.timeline.receivedAt) - faultAt) / 1000,
      dispatchSeconds: ((failover.timeline.startedAt ? Date.parse(failover.timeline.startedAt) : Number.NaN) - Date.parse(failover.timeline.receivedAt)) / 1000,
      oldPrimary: 'cache-a',
      newPrimary,
      runId: failover.id,
      failoverRuns: runs.filter((run) => run.playbook === playbook && run.phase === 'remediate').length,
      alertFromAlertmanager: failover.receiver === 'remediator',
      newPrimaryAcceptsWrites: accepts ?? false,
      oldPrimaryFenced: fencedAt !== undefined,
      steps: failover.steps.map((step) => ({ name: step.name, status: step.status, durationMs: step.durationMs })),
      events,
      urls: { ...urls, admin: `admin / ${adminPassword}` },
    };
    options.report(summary);
    if (!options.once) {
      say(`\nthe lab keeps running; Ctrl-C stops it\n  queue UI      ${urls.queueUi}  (admin / ${adminPassword})\n  Prometheus    ${urls.prometheus}\n  Alertmanager  ${urls.alertmanager}\n  metrics       ${urls.metrics}`);
      await options.stopRequested;
    }
    return summary;
  } finally {
    for (const connection of clients) connection.disconnect();
    await Promise.all(processes.map((process) => process.stop(5000)));
    await rm(dir, { recursive: true, force: true });
  }
}

/** The timeline and the figures as a human reads them. */
export function formatDemoSummary(summary: DemoSummary): string {
  const lines = [
    '',
    'timeline (seconds after the fault)',
    ...summary.events.map((event) => `  ${event.seconds.toFixed(2).padStart(7)}  ${event.what}`),
    '',
    `RTO (fault → first write on ${summary.newPrimary}): ${summary.rtoSeconds.toFixed(2)} s`,
    `detection (fault → webhook):            ${summary.detectionSeconds.toFixed(2)} s`,
    `dispatch (webhook → first step):        ${summary.dispatchSeconds.toFixed(3)} s`,
    `failover runs: ${summary.failoverRuns}; old primary fenced: ${summary.oldPrimaryFenced ? 'yes' : 'NO'}`,
  ];
  return lines.join('\n');
}
