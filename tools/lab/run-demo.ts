import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { parseInfo } from '../../src/inventory/redis-info.js';
import { findExecutable } from '../../src/redis/embedded-redis.js';
import { readEmbeddedRedisUrl } from '../../src/redis/embedded-redis-files.js';
import { freePort } from '../../src/util/free-port.js';
import { sleep } from '../../src/util/sleep.js';
import { waitUntil } from '../../src/util/wait-until.js';
import { runDecisions, type DemoEvent, type DemoRunView, type DemoSideEffects, type DemoSummary } from './demo-summary.js';
import { writeLabMonitoringConfigs } from './lab-config.js';
import { labStreamCluster, startLabStreams, type LabStreams } from './lab-streams.js';
import { startManagedProcess, type ManagedProcess } from './managed-process.js';
import { describeRole, readRole, watchMembers, type WatchedMember } from './member-watch.js';
import { findNginxRtmpPrograms } from './nginx-rtmp.js';

export { formatDemoSummary, runDecisions } from './demo-summary.js';
export type { DemoEvent, DemoRunDecision, DemoSideEffects, DemoStepDecision, DemoSummary, DryRunDemoSummary, LiveDemoSummary } from './demo-summary.js';

/** How the demo runs remediator itself (this same program) and where the repository's files are. */
export interface DemoOptions {
  root: string;
  self: { command: string; args: string[] };
  once: boolean;
  /**
   * `remediator serve` runs with DRY_RUN=1: the same scenario, the same decisions, every step recorded as
   * would-run and nothing acted on; the summary reports the decisions and the side effects seen (none).
   */
  dryRun: boolean;
  /** Progress lines (stderr with --json, so stdout stays one JSON line). */
  log: (line: string) => void;
  /** Resolves when the user asks to stop (Ctrl-C); only awaited without --once. */
  stopRequested: Promise<void>;
  /** Receives the summary as soon as the recovery is measured, before the lab keeps running. */
  report: (summary: DemoSummary) => void;
}

const members = ['cache-a', 'cache-b', 'cache-c'] as const;
const memberNames: ReadonlySet<string> = new Set(members);
const playbook = 'redis-primary-failover';
const missingPackages = (packages: string[]) =>
  `missing ${packages.join(', ')}: run \`npm run demo\` as root (it installs them), or apt-get install --no-install-recommends ${packages.join(' ')}`;

/**
 * The live lab: a password-protected Redis primary with two replicas, `remediator exporter`, real Prometheus and
 * Alertmanager (configs derived from prometheus/ with 1 s intervals) and `remediator serve` on its embedded Redis,
 * all on loopback in a temp dir. It kills the primary, follows the alert through Alertmanager to the failover
 * run, measures RTO as fault → first write accepted by the new primary, then revives the old primary and waits
 * until it is fenced. Every process is stopped at the end. In the background, a stream cluster `cameras`
 * (lab-streams.ts: nginx-rtmp, one ffmpeg camera and one reader) gives the exporter stream metrics for the Fleet
 * dashboard; its member stays up throughout and no playbook acts on it.
 *
 * With `dryRun`, remediator serves with DRY_RUN=1 and the scenario is the same up to what remediator does: the
 * failover and failback runs record their steps as would-run, nothing is promoted, and the revived primary is
 * still the primary. Both modes watch ROLE on every member throughout and report what changed.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const binaries = {
    redis: await findExecutable('redis-server'),
    prometheus: await findExecutable('prometheus'),
    alertmanager: await findExecutable('prometheus-alertmanager'),
  };
  const streamPrograms = await findNginxRtmpPrograms();
  // The binaries above are named as their Debian packages.
  const missing = [
    ...Object.entries(binaries).filter(([, path]) => path === undefined).map(([name]) => (name === 'redis' ? 'redis-server' : name === 'alertmanager' ? 'prometheus-alertmanager' : name)),
    ...(streamPrograms.found ? [] : streamPrograms.missingPackages),
  ];
  if (missing.length > 0 || !streamPrograms.found) throw new Error(missingPackages(missing));

  const dir = await mkdtemp(join(tmpdir(), 'remediator-lab-'));
  const processes: ManagedProcess[] = [];
  const clients: Redis[] = [];
  let streams: LabStreams | undefined;
  // Polling loops (write probe, role watch), stopped in `finally` too: a failed demo must still exit.
  const loops: (() => Promise<void>)[] = [];
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
      rtmp: await freePort(),
      rtmpStat: await freePort(),
    };
    const address = (index: number) => `127.0.0.1:${ports.redis[index] ?? 0}`;
    const urls = {
      queueUi: `http://127.0.0.1:${ports.remediator}/queues`,
      runs: `http://127.0.0.1:${ports.remediator}/api/runs`,
      metrics: `http://127.0.0.1:${ports.remediator}/metrics`,
      prometheus: `http://127.0.0.1:${ports.prometheus}`,
      alertmanager: `http://127.0.0.1:${ports.alertmanager}`,
      exporter: `http://127.0.0.1:${ports.exporter}/metrics`,
      streamStat: `http://127.0.0.1:${ports.rtmpStat}/stat`,
    };

    // 0. The stream cluster starts in the background, while Redis syncs; it must be ready before the fault.
    streams = startLabStreams({ dir, programs: streamPrograms.programs, rtmpPort: ports.rtmp, httpPort: ports.rtmpStat });
    const labStreams = streams;
    let streamsReady = false;

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
    const inventory = {
      clusters: {
        cache: {
          kind: 'redis',
          credentials: { passwordFile: join(dir, 'redis-password') },
          members: members.map((name, index) => ({ name, address: address(index), ...(name === 'cache-b' ? { priority: 10 } : {}) })),
        },
        [labStreamCluster]: labStreams.inventoryCluster,
      },
    };
    await writeFile(join(remediations, 'inventory.yaml'), stringify(inventory));
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
        ...(options.dryRun ? { DRY_RUN: '1' } : {}),
      },
    });
    processes.push(remediator);
    const exporter = startManagedProcess('exporter', options.self.command, [...options.self.args, 'exporter', '--port', String(ports.exporter)], {
      cwd: options.root,
      env: { ...baseEnv, INVENTORY_FILE: join(remediations, 'inventory.yaml'), EXPORTER_PROBE_TIMEOUT_MS: '500' },
    });
    processes.push(exporter);

    // 4. Prometheus and Alertmanager, configured from prometheus/ with lab timings.
    await writeLabMonitoringConfigs({ root: options.root, dir, ports: { prometheus: ports.prometheus, alertmanager: ports.alertmanager, exporter: ports.exporter, webhook: ports.remediator } });
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
      // Redis members are killed and restarted on purpose; only the other processes must stay up.
      const dead = processes.find((process) => !process.running() && !memberNames.has(process.name));
      if (dead) throw new Error(`${dead.name} exited:\n${dead.output().slice(-2000)}`);
      // Before it is ready, a failed start surfaces where `ready` is awaited, at once rather than after a timeout.
      if (streamsReady) labStreams.check();
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
    // The stream cluster is background: no line of its own, but its member must be up and its stream published
    // in Prometheus before the fault, so every stream panel has data and no alert ever fires for it.
    await labStreams.ready;
    streamsReady = true;
    await waitUntil('the exporter to report the published stream', async () => {
      alive();
      const query = `remediator_stream_up{cluster="${labStreamCluster}"} == 1 and on (cluster, instance) remediator_member_up{cluster="${labStreamCluster}"} == 1`;
      const body = (await (await fetch(`${urls.prometheus}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as { data: { result: unknown[] } };
      return body.data.result.length === 1;
    }, 30_000, 250);
    say('  Alertmanager discovered; the exporter sees cache-a as primary');

    // 5. The write probe: every 50 ms, try a write on every member; remember when each first succeeds. The role
    // watch polls ROLE on every member: promotions, fences and repointed replicas, the side effects of a run.
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
    const watched: WatchedMember[] = members.map((name, index) => ({ name, address: address(index), client: client(index) }));
    const watch = watchMembers(watched);
    loops.push(async () => { probe.running = false; await probeLoop; }, () => watch.stop());
    const roleOf = (name: string) => {
      const member = watched.find((candidate) => candidate.name === name);
      return member ? readRole(member, watched) : Promise.resolve(undefined);
    };

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
    // The list holds summaries; the summary of the lab needs each run in full (step outputs, guards, skip reasons).
    const runsOf = async () => {
      const { runs } = (await (await fetch(`${urls.runs}?limit=50`, { headers: admin })).json()) as { runs: { id: string }[] };
      return Promise.all(runs.map(async (run) => (await (await fetch(`${urls.runs}/${encodeURIComponent(run.id)}`, { headers: admin })).json()) as DemoRunView));
    };
    const finishedRun = (phase: string, timeoutMs: number) => waitUntil(`the ${phase} run to finish`, async () => {
      alive();
      const runs = (await runsOf()).filter((run) => run.playbook === playbook && run.phase === phase);
      return runs.find((run) => run.state === 'completed' || run.state === 'failed');
    }, timeoutMs, 250);
    const noteSteps = (run: DemoRunView, prefix: string) => {
      for (const step of run.steps) if (step.finishedAt) note(`${prefix}step ${step.name} ${step.status}`, Date.parse(step.finishedAt));
    };
    const failover = await finishedRun('remediate', 180_000);
    if (failover.state !== 'completed') throw new Error(`the failover run ${failover.id} failed: ${JSON.stringify(failover.steps)}`);
    note('alert firing (Prometheus startsAt)', Date.parse(failover.timeline.alertStartsAt));
    note('webhook received from Alertmanager', Date.parse(failover.timeline.receivedAt));
    if (failover.timeline.startedAt) note('run started', Date.parse(failover.timeline.startedAt));
    noteSteps(failover, '');

    let recovery: { newPrimary: (typeof members)[number]; firstWrite: number } | undefined;
    if (options.dryRun) {
      // A live promotion lands within milliseconds of the step and its verify within a second or two: watching
      // a little longer shows that nothing is on its way either.
      await sleep(2000);
      const roles = await Promise.all(['cache-b', 'cache-c'].map(async (name) => `${name} ${describeRole(await roleOf(name))}`));
      note(`dry run: nothing promoted: ${roles.join(', ')}`, Date.now());
      say(`dry run: the failover run would have run ${failover.steps.map((step) => step.name).join(', ')}; ${roles.join(', ')}`);
    } else {
      const newPrimary = await waitUntil('a new primary to accept a write', () => members.find((name) => name !== 'cache-a' && (writes.get(name) ?? []).some((at) => at > faultAt)), 30_000, 50);
      const firstWrite = (writes.get(newPrimary) ?? []).find((at) => at > faultAt) ?? Date.now();
      recovery = { newPrimary, firstWrite };
      note(`first write accepted by ${newPrimary}`, firstWrite);
      say(`failover done: ${newPrimary} is primary`);
    }

    // 7. The old primary comes back: the resolved alert's failback fences it (a dry run only says it would).
    say(options.dryRun ? 'reviving cache-a: with nothing promoted it is still the primary, and the failback run only would fence it' : 'reviving cache-a: it must come back as a replica, not a second primary');
    const revivedAt = Date.now();
    redisServers[0] = startRedis(0);
    note('cache-a restarted', revivedAt);
    let fencedAt: number | undefined;
    let failback: DemoRunView | undefined;
    let oldPrimaryStillPrimary = false;
    if (options.dryRun) {
      failback = await finishedRun('failback', 120_000);
      // Nothing acted, so the cluster is as it was before the fault once the replicas have re-linked.
      const healedAt = await waitUntil('cache-a to be primary again with both replicas linked to it', async () => {
        const roles = await Promise.all(members.map((name) => roleOf(name)));
        const healed = roles[0]?.role === 'primary' && roles.slice(1).every((role) => role?.role === 'replica' && role.primary === 'cache-a' && role.linked);
        return healed ? Date.now() : undefined;
      }, 30_000, 100).catch(() => undefined);
      oldPrimaryStillPrimary = healedAt !== undefined;
      if (healedAt !== undefined) note('cache-a primary again, cache-b and cache-c re-linked to it (nothing changed)', healedAt);
    } else {
      fencedAt = await waitUntil('cache-a to be fenced', async () => ((await info(0))?.get('role') === 'slave' ? Date.now() : undefined), 120_000, 100)
        .catch(() => undefined);
      if (fencedAt !== undefined) note('cache-a fenced (now a replica)', fencedAt);
      // Its decisions are part of the summary: let the fence step finish (its verify waits for the link).
      failback = await finishedRun('failback', 60_000).catch(() => undefined);
    }
    await Promise.all(loops.map((stop) => stop()));

    const runs = await runsOf();
    // The fence came from InstanceDown resolving for cache-a: its resolved notification started the failback run.
    failback ??= runs.find((run) => run.playbook === playbook && run.phase === 'failback');
    if (failback) {
      note('InstanceDown resolved for cache-a (webhook received)', Date.parse(failback.timeline.receivedAt));
      noteSteps(failback, 'failback ');
    }
    const changes = watch.changes();
    const sideEffects: DemoSideEffects = {
      promotions: changes.promoted.length,
      promoted: changes.promoted,
      demotions: changes.demoted.length,
      demoted: changes.demoted,
      repointed: changes.repointed,
      writesOnOtherMembers: members.filter((name) => name !== 'cache-a').reduce((count, name) => count + (writes.get(name) ?? []).filter((at) => at > faultAt).length, 0),
      primaryRecord: await readPrimaryRecord(join(dir, 'remediator')),
      roleSamples: changes.samples,
    };
    const finalRoles = Object.fromEntries(await Promise.all(members.map(async (name) => [name, describeRole(await roleOf(name))] as const)));
    events.sort((a, b) => a.seconds - b.seconds);
    const common = {
      oldPrimary: 'cache-a',
      runId: failover.id,
      failoverRuns: runs.filter((run) => run.playbook === playbook && run.phase === 'remediate').length,
      alertFromAlertmanager: failover.receiver === 'remediator',
      detectionSeconds: (Date.parse(failover.timeline.receivedAt) - faultAt) / 1000,
      dispatchSeconds: ((failover.timeline.startedAt ? Date.parse(failover.timeline.startedAt) : Number.NaN) - Date.parse(failover.timeline.receivedAt)) / 1000,
      steps: failover.steps.map((step) => ({ name: step.name, status: step.status, durationMs: step.durationMs })),
      runs: runDecisions(runs.filter((run) => run.playbook === playbook)),
      sideEffects,
      finalRoles,
      events,
      urls: { ...urls, admin: `admin / ${adminPassword}` },
    };
    let summary: DemoSummary;
    if (recovery) {
      const accepts = await probes[members.indexOf(recovery.newPrimary)]?.set('remediator:demo:after', '1').then(() => true, () => false);
      summary = {
        mode: 'live',
        dryRun: false,
        rtoSeconds: (recovery.firstWrite - faultAt) / 1000,
        newPrimary: recovery.newPrimary,
        newPrimaryAcceptsWrites: accepts ?? false,
        oldPrimaryFenced: fencedAt !== undefined,
        ...common,
      };
    } else {
      summary = {
        mode: 'dry-run',
        dryRun: true,
        rtoSeconds: null,
        rtoNote: 'A dry run promotes nothing, so nothing recovers: the cluster had no primary until cache-a was restarted.',
        oldPrimaryStillPrimary,
        ...common,
      };
    }
    options.report(summary);
    if (!options.once) {
      say(`\nthe lab keeps running; Ctrl-C stops it\n  queue UI      ${urls.queueUi}  (admin / ${adminPassword})\n  Prometheus    ${urls.prometheus}\n  Alertmanager  ${urls.alertmanager}\n  metrics       ${urls.metrics}\n  stream        ${labStreams.rtmpUrl}  (nginx-rtmp stat ${urls.streamStat})`);
      await options.stopRequested;
    }
    return summary;
  } finally {
    await Promise.all(loops.map((stop) => stop()));
    for (const connection of clients) connection.disconnect();
    await Promise.all([...processes.map((process) => process.stop(5000)), streams?.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * remediator's record of the primary it chose per cluster (src/state/primary-record.ts, default prefix), read
 * from the embedded Redis of `remediator serve` through the state and password files it keeps in its data directory.
 */
async function readPrimaryRecord(dataDir: string): Promise<Record<string, string>> {
  const connection = new Redis(await readEmbeddedRedisUrl(dataDir), { lazyConnect: true, connectTimeout: 1000, commandTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  connection.on('error', () => undefined);
  try {
    await connection.connect();
    return await connection.hgetall('remediator:primaries');
  } finally {
    connection.disconnect();
  }
}
