import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { parseInfo } from '../src/inventory/redis-info.js';
import { writeLabMonitoringConfigs } from '../tools/lab/lab-config.js';
import { labStreamCluster, startLabStreams, type LabStreams } from '../tools/lab/lab-streams.js';
import { startManagedProcess, type ManagedProcess } from '../tools/lab/managed-process.js';
import { findNginxRtmpPrograms } from '../tools/lab/nginx-rtmp.js';
import { runDemo, type DemoSummary } from '../tools/lab/run-demo.js';
import { findExecutable } from '../src/redis/embedded-redis.js';
import { freePort } from '../src/util/free-port.js';
import { sleep } from '../src/util/sleep.js';
import { waitUntil } from '../src/util/wait-until.js';
import { startSentinels } from '../test/helpers/redis-sentinel.js';

/**
 * Recovery (RTO) against two baselines measured in the same run, rounds interleaved so that a noisy stretch of
 * the machine hits all three alike:
 * - RTO: the lab (`remediator demo --once`): SIGKILL of the Redis primary → first write accepted by the new one;
 * - detection floor: the same lab topology and Prometheus/Alertmanager configs, with the webhook going to a plain
 *   recorder instead of remediator: SIGKILL → InstanceDown webhook delivered;
 * - Redis Sentinel: three real sentinels watching a primary and two replicas, down-after-milliseconds set to the
 *   same worst-case detection budget: SIGKILL → first write accepted by the new primary (the same 50 ms probe).
 */
export interface RecoveryFigures {
  rounds: number;
  /** Median RTO of remediator's lab, in seconds. */
  rtoSeconds: number;
  /** Median detection floor (fault → InstanceDown webhook at a plain recorder), in seconds. */
  detectionSeconds: number;
  /** Median Sentinel RTO (fault → first write on the primary it promoted), in seconds. */
  sentinelSeconds: number;
  /** rtoSeconds / detectionSeconds (target ≤ 1.5). */
  rtoOverDetectionRatio: number;
  /** rtoSeconds / sentinelSeconds (target ≤ 1.0). */
  rtoOverSentinelRatio: number;
  rtoRounds: number[];
  detectionRounds: number[];
  sentinelRounds: number[];
  /** Fault → webhook received by remediator in the RTO rounds themselves (its own detection), per round. */
  labDetectionRounds: number[];
  /** Webhook received → first step started in the RTO rounds (queue, lease, the four PromQL guards), per round. */
  labDispatchRounds: number[];
  /** Median of rtoRounds − labDetectionRounds: webhook → first write, remediator's own share of the RTO. */
  remediatorActionSeconds: number;
  /** Fault → the first sentinel's +odown (the master objectively down: Sentinel's detection), per round. */
  sentinelDetectionRounds: number[];
  /** Median of sentinelRounds − sentinelDetectionRounds: +odown → first write, Sentinel's failover itself. */
  sentinelActionSeconds: number;
  /** Sentinel's down-after-milliseconds: InstanceDown's `for` plus one scrape and one evaluation interval. */
  sentinelDownAfterMs: number;
  targets: { rtoOverDetectionRatio: number; rtoOverSentinelRatio: number };
}

/** What {@link benchRecovery} takes; `sentinelDownAfterMs` only for sensitivity runs (default 17 s, see below). */
export interface RecoveryOptions {
  quick: boolean;
  log: (line: string) => void;
  sentinelDownAfterMs?: number;
}

const root = fileURLToPath(new URL('..', import.meta.url));
const targets = { rtoOverDetectionRatio: 1.5, rtoOverSentinelRatio: 1.0 };
const rounds = { quick: 2, full: 5 };
/**
 * The lab's detection budget in the worst case: a fault just after a scrape shows at the next scrape (≤ 1 s), the
 * rule sees that sample at the next evaluation (≤ 1 s), and InstanceDown fires after `for: 15s` of pending: 17 s.
 * Sentinel gets the same bound as down-after-milliseconds. It spends it differently: a SIGKILLed server drops the
 * sentinels' links at once, so +sdown/+odown come about down-after + 0.2 s after the fault with no sampling delay,
 * where the Prometheus path fires 15 s + 0–2 s after it. At down-after = `for` (15 s) Sentinel would detect about
 * 1 s sooner than Prometheus; at 17 s about 1 s later (`sentinelDownAfterMs` runs either).
 */
const detectionBudgetMs = 15_000 + 1_000 + 1_000;
const probeIntervalMs = 50; // the lab's write probe (tools/lab/run-demo.ts)
const members = ['cache-a', 'cache-b', 'cache-c'] as const;

/** Runs the three measurements `rounds` times each, interleaved, and reports medians and ratios. */
export async function benchRecovery(options: RecoveryOptions): Promise<RecoveryFigures> {
  const count = options.quick ? rounds.quick : rounds.full;
  const downAfterMs = options.sentinelDownAfterMs ?? detectionBudgetMs;
  const log = options.log;
  const rto: number[] = [];
  const labDetection: number[] = [];
  const labDispatch: number[] = [];
  const detection: number[] = [];
  const sentinel: number[] = [];
  const sentinelDetection: number[] = [];
  const exitGuard = killDescendantsOnExit();
  try {
    for (let round = 1; round <= count; round++) {
      const tag = `[recovery ${round}/${count}]`;
      const lab = await rtoRound((line) => { log(`${tag} rto: ${line.trim()}`); });
      rto.push(lab.rtoSeconds);
      labDetection.push(lab.detectionSeconds);
      labDispatch.push(lab.dispatchSeconds);
      log(`${tag} RTO ${lab.rtoSeconds.toFixed(2)} s (webhook received at ${lab.detectionSeconds.toFixed(2)} s, first step ${lab.dispatchSeconds.toFixed(3)} s later)`);
      const floor = await detectionRound((line) => { log(`${tag} detection: ${line}`); });
      detection.push(floor);
      log(`${tag} detection floor ${floor.toFixed(2)} s`);
      const failover = await sentinelRound(downAfterMs, (line) => { log(`${tag} sentinel: ${line}`); });
      sentinel.push(failover.rtoSeconds);
      sentinelDetection.push(failover.odownSeconds);
      log(`${tag} Sentinel ${failover.rtoSeconds.toFixed(2)} s (+odown at ${failover.odownSeconds.toFixed(2)} s)`);
    }
  } finally {
    exitGuard.dispose();
  }
  const rtoSeconds = median(rto);
  const detectionSeconds = median(detection);
  const sentinelSeconds = median(sentinel);
  return {
    rounds: count,
    rtoSeconds,
    detectionSeconds,
    sentinelSeconds,
    rtoOverDetectionRatio: round3(rtoSeconds / detectionSeconds),
    rtoOverSentinelRatio: round3(rtoSeconds / sentinelSeconds),
    rtoRounds: rto,
    detectionRounds: detection,
    sentinelRounds: sentinel,
    labDetectionRounds: labDetection,
    labDispatchRounds: labDispatch,
    remediatorActionSeconds: median(rto.map((value, index) => round3(value - (labDetection[index] ?? Number.NaN)))),
    sentinelDetectionRounds: sentinelDetection,
    sentinelActionSeconds: median(sentinel.map((value, index) => round3(value - (sentinelDetection[index] ?? Number.NaN)))),
    sentinelDownAfterMs: downAfterMs,
    targets,
  };
}

/** One live lab (`remediator demo --once`), which stops everything it started before it returns or throws. */
async function rtoRound(log: (line: string) => void): Promise<{ rtoSeconds: number; detectionSeconds: number; dispatchSeconds: number }> {
  let summary: DemoSummary | undefined;
  await runDemo({
    root,
    // remediator itself, run through tsx from the source (the bench is run that way too).
    self: { command: process.execPath, args: ['--import', 'tsx', join(root, 'src', 'main.ts')] },
    once: true,
    dryRun: false,
    log,
    stopRequested: Promise.resolve(),
    report: (reported) => { summary = reported; },
  });
  if (summary?.mode !== 'live') throw new Error('the lab reported no live recovery');
  if (summary.failoverRuns !== 1 || !summary.newPrimaryAcceptsWrites) {
    throw new Error(`the lab's failover is not one clean run: ${summary.failoverRuns} runs, new primary accepts writes: ${String(summary.newPrimaryAcceptsWrites)}`);
  }
  return { rtoSeconds: round3(summary.rtoSeconds), detectionSeconds: round3(summary.detectionSeconds), dispatchSeconds: round3(summary.dispatchSeconds) };
}

/**
 * The detection floor: the lab's topology (a password-protected primary and two replicas, `remediator exporter`,
 * Prometheus and Alertmanager configured by the lab's own functions from prometheus/ and rules/) with
 * Alertmanager's webhook going to a recorder that only notes when InstanceDown for the primary arrives. The
 * recorder also stands in for remediator's scrape target (an empty /metrics), so Prometheus has the same jobs.
 * The lab's background stream cluster (nginx-rtmp, an ffmpeg camera and a reader) runs here too, so the exporter
 * probes the same inventory and the machine carries the same load. The sequence and the readiness checks before
 * the fault are the lab's (tools/lab/run-demo.ts).
 */
async function detectionRound(log: (line: string) => void): Promise<number> {
  const binaries = {
    redis: await requireExecutable('redis-server'),
    prometheus: await requireExecutable('prometheus'),
    alertmanager: await requireExecutable('prometheus-alertmanager'),
  };
  const streamPrograms = await findNginxRtmpPrograms();
  if (!streamPrograms.found) throw new Error(`missing ${streamPrograms.missingPackages.join(', ')} (the lab's stream cluster): run \`npm run bootstrap\` as root`);
  const dir = await mkdtemp(join(tmpdir(), 'remediator-bench-detection-'));
  const processes: ManagedProcess[] = [];
  const clients: Redis[] = [];
  let recorder: Server | undefined;
  let streams: LabStreams | undefined;
  try {
    const password = randomBytes(12).toString('hex');
    const token = randomBytes(16).toString('hex');
    await writeFile(join(dir, 'redis-password'), password);
    await writeFile(join(dir, 'webhook-token'), token);
    const ports = {
      redis: await Promise.all(members.map(() => freePort())),
      exporter: await freePort(),
      prometheus: await freePort(),
      alertmanager: await freePort(),
      recorder: await freePort(),
      rtmp: await freePort(),
      rtmpStat: await freePort(),
    };
    const address = (index: number) => `127.0.0.1:${ports.redis[index] ?? 0}`;

    streams = startLabStreams({ dir, programs: streamPrograms.programs, rtmpPort: ports.rtmp, httpPort: ports.rtmpStat });
    const labStreams = streams;
    let streamsReady = false;

    // The same Redis arguments as the lab.
    for (const name of members) await mkdir(join(dir, name));
    const redis = members.map((name, index) => {
      const server = startManagedProcess(name, binaries.redis, [
        '--bind', '127.0.0.1', '--port', String(ports.redis[index]), '--dir', join(dir, name),
        '--appendonly', 'yes', '--save', '', '--requirepass', password, '--masterauth', password,
        '--shutdown-timeout', '0', '--repl-diskless-sync-delay', '0', '--daemonize', 'no',
        ...(index === 0 ? [] : ['--replicaof', '127.0.0.1', String(ports.redis[0])]),
      ]);
      processes.push(server);
      return server;
    });
    const replica = (index: number) => {
      const connection = new Redis({ host: '127.0.0.1', port: ports.redis[index] ?? 0, password, lazyConnect: true, connectTimeout: 300, commandTimeout: 300, maxRetriesPerRequest: 0, retryStrategy: () => 200, enableOfflineQueue: false });
      connection.on('error', () => undefined);
      clients.push(connection);
      return connection;
    };
    const replicas = [replica(1), replica(2)];
    log('starting Redis (a primary and two replicas)…');
    await waitUntil('the Redis replicas to sync', async () => {
      const states = await Promise.all(replicas.map(async (connection) => {
        if (connection.status === 'wait' || connection.status === 'end') await connection.connect().catch(() => undefined);
        return parseInfo(await connection.info('replication'));
      }));
      return states.every((state) => state.get('master_link_status') === 'up');
    }, 20_000, 100);

    // The recorder: Alertmanager's webhook receiver and remediator's stand-in scrape target.
    const arrivals: { at: number; firing: boolean }[] = [];
    recorder = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => { chunks.push(chunk); });
      request.on('end', () => {
        if (request.method === 'POST' && request.url === '/webhooks/alertmanager') {
          const at = Date.now();
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts?: { status?: string; labels?: Record<string, string> }[] };
            for (const alert of body.alerts ?? []) {
              if (alert.labels?.alertname === 'InstanceDown' && alert.labels.instance === 'cache-a') arrivals.push({ at, firing: alert.status === 'firing' });
            }
          } catch {
            // not an Alertmanager payload: not what is measured
          }
          response.writeHead(200).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(request.url === '/metrics' ? '' : 'ok');
      });
    });
    const listening = recorder;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(ports.recorder, '127.0.0.1', () => { resolve(); });
    });

    const inventory = join(dir, 'inventory.yaml');
    await writeFile(inventory, stringify({
      clusters: {
        cache: {
          kind: 'redis',
          credentials: { passwordFile: join(dir, 'redis-password') },
          members: members.map((name, index) => ({ name, address: address(index), ...(name === 'cache-b' ? { priority: 10 } : {}) })),
        },
        [labStreamCluster]: labStreams.inventoryCluster,
      },
    }));
    processes.push(startManagedProcess('exporter', process.execPath, ['--import', 'tsx', join(root, 'src', 'main.ts'), 'exporter', '--port', String(ports.exporter)], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, LOG_LEVEL: 'warn', INVENTORY_FILE: inventory, EXPORTER_PROBE_TIMEOUT_MS: '500' },
    }));
    await writeLabMonitoringConfigs({ root, dir, ports: { prometheus: ports.prometheus, alertmanager: ports.alertmanager, exporter: ports.exporter, webhook: ports.recorder } });
    processes.push(
      startManagedProcess('alertmanager', binaries.alertmanager, [
        `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'alertmanager')}`,
        `--web.listen-address=127.0.0.1:${ports.alertmanager}`, '--cluster.listen-address=', '--log.level=warn',
      ]),
      startManagedProcess('prometheus', binaries.prometheus, [
        `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'prometheus')}`,
        `--web.listen-address=127.0.0.1:${ports.prometheus}`, '--log.level=warn',
      ]),
    );
    // The killed primary aside, a process that exits ends the round at once (waitUntil would retry until its timeout).
    const dead = () => {
      const child = processes.find((candidate) => !candidate.running() && candidate !== redis[0]);
      if (child) return `${child.name} exited:\n${child.output().slice(-2000)}`;
      try {
        if (streamsReady) labStreams.check();
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    };
    const waitAlive = async <T>(what: string, check: () => Promise<T> | T, timeoutMs: number, intervalMs: number): Promise<NonNullable<T>> => {
      const outcome = await waitUntil(what, async () => {
        const reason = dead();
        if (reason !== undefined) return { reason };
        const value = await check();
        return value ? { value } : undefined;
      }, timeoutMs, intervalMs);
      if ('reason' in outcome) throw new Error(`while waiting for ${what}: ${outcome.reason}`);
      return outcome.value;
    };
    const prometheus = `http://127.0.0.1:${ports.prometheus}`;
    log('waiting for the exporter, Prometheus and Alertmanager…');
    await waitAlive('Prometheus to scrape every target', async () => {
      const body = (await (await fetch(`${prometheus}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string }[] } };
      return body.data.activeTargets.length === 3 && body.data.activeTargets.every((target) => target.health === 'up');
    }, 60_000, 250);
    await waitAlive('Prometheus to find Alertmanager', async () => {
      const body = (await (await fetch(`${prometheus}/api/v1/alertmanagers`)).json()) as { data: { activeAlertmanagers: unknown[] } };
      return body.data.activeAlertmanagers.length > 0;
    }, 60_000, 250);
    await waitAlive('the exporter to report the primary', async () => {
      const body = (await (await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent('remediator_member_up{cluster="cache",role="primary"} == 1')}`)).json()) as { data: { result: unknown[] } };
      return body.data.result.length === 1;
    }, 60_000, 250);
    await labStreams.ready;
    streamsReady = true;
    await waitAlive('the exporter to report the published stream', async () => {
      const query = `remediator_stream_up{cluster="${labStreamCluster}"} == 1 and on (cluster, instance) remediator_member_up{cluster="${labStreamCluster}"} == 1`;
      const body = (await (await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as { data: { result: unknown[] } };
      return body.data.result.length === 1;
    }, 30_000, 250);

    const faultAt = Date.now();
    log('FAULT: SIGKILL of the primary');
    await redis[0]?.kill();
    const webhookAt = await waitAlive('the InstanceDown webhook for the primary', () => arrivals.find((arrival) => arrival.firing && arrival.at > faultAt)?.at, 60_000, 10);
    return round3((webhookAt - faultAt) / 1000);
  } finally {
    for (const connection of clients) connection.disconnect();
    const server = recorder;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
    }
    await Promise.all([...processes.map((child) => child.stop(5000)), streams?.stop()]);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Redis Sentinel on the same topology: a password-protected primary and two replicas, three sentinels with
 * quorum 2, `down-after-milliseconds` as given and `failover-timeout` 10 s (test/helpers/redis-sentinel.ts).
 * The write probe is the lab's: every 50 ms a SET on every data server, the first one accepted after the fault by
 * a server other than the killed one is the recovery. Each sentinel's events are followed for the +odown time.
 */
async function sentinelRound(downAfterMs: number, log: (line: string) => void): Promise<{ rtoSeconds: number; odownSeconds: number }> {
  await requireExecutable('redis-sentinel');
  const password = randomBytes(12).toString('hex');
  log(`starting 3 redis-servers and 3 sentinels (down-after-milliseconds ${downAfterMs})…`);
  const lab = await startSentinels({ password, downAfterMs });
  const probe = startWriteProbe(lab.servers.map((server) => ({ name: server.address, port: server.port })), password);
  try {
    const odown: number[] = [];
    for (const address of lab.sentinels) {
      const events = lab.client(address);
      events.on('pmessage', (_pattern: string, channel: string, message: string) => {
        if (channel === '+odown' && message.startsWith(`master ${lab.masterName} `)) odown.push(Date.now());
      });
      await events.psubscribe('+odown');
    }
    const [primary, ...replicas] = lab.servers;
    if (!primary) throw new Error('the sentinel lab has no primary');
    await waitUntil('the write probe to reach the primary', () => probe.firstWriteAfter(primary.address, 0), 10_000, 10);

    const faultAt = Date.now();
    log('FAULT: SIGKILL of the primary');
    await lab.crash(primary.address);
    const firstWrite = await waitUntil('a new primary to accept a write', () => {
      const writes = replicas.map((server) => probe.firstWriteAfter(server.address, faultAt)).filter((at) => at !== undefined);
      return writes.length > 0 ? Math.min(...writes) : undefined;
    }, downAfterMs + 30_000, probeIntervalMs);
    const odownAt = odown.length > 0 ? Math.min(...odown) : Number.NaN;
    return { rtoSeconds: round3((firstWrite - faultAt) / 1000), odownSeconds: round3((odownAt - faultAt) / 1000) };
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${lab.output().slice(-4000)}`, { cause: error });
  } finally {
    await probe.stop();
    await lab.stop();
  }
}

/**
 * The lab's write probe (tools/lab/run-demo.ts): every 50 ms a SET on every server, remembering when each accepted
 * one. One difference: Sentinel closes every client of the replica it promotes (CLIENT KILL TYPE normal, in the
 * same MULTI as SLAVEOF NO ONE), which the lab's failover never does, so these clients reconnect after 50 ms
 * rather than the lab's 200 ms: otherwise the probe's own back-off would be charged to Sentinel.
 */
function startWriteProbe(servers: readonly { name: string; port: number }[], password: string) {
  const writes = new Map<string, number[]>();
  const connections = servers.map((server) => {
    const connection = new Redis({ host: '127.0.0.1', port: server.port, password, lazyConnect: true, connectTimeout: 300, commandTimeout: 300, maxRetriesPerRequest: 0, retryStrategy: () => probeIntervalMs, enableOfflineQueue: false });
    connection.on('error', () => undefined);
    return { name: server.name, connection };
  });
  const state = { running: true };
  const loop = (async () => {
    let counter = 0;
    while (state.running) {
      counter++;
      await Promise.all(connections.map(async ({ name, connection }) => {
        try {
          if (connection.status === 'wait' || connection.status === 'end') await connection.connect();
          await connection.set('remediator:bench:probe', String(counter));
          const list = writes.get(name) ?? [];
          list.push(Date.now());
          writes.set(name, list);
        } catch {
          // down, or a replica refusing writes (READONLY): exactly what the probe measures
        }
      }));
      await sleep(probeIntervalMs);
    }
  })();
  let stopping: Promise<void> | undefined;
  return {
    firstWriteAfter: (name: string, after: number) => (writes.get(name) ?? []).find((at) => at > after),
    stop() {
      state.running = false;
      stopping ??= loop.finally(() => { for (const { connection } of connections) connection.disconnect(); });
      return stopping;
    },
  };
}

/**
 * The labs stop every process they start, on errors too, but an exit of the bench in the middle of a round (Ctrl-C:
 * bench/run.ts calls process.exit) runs no `finally`. Until disposed, this SIGKILLs every descendant of the bench
 * on exit: the labs' servers are detached into their own process groups, and remediator's embedded Redis is a
 * grandchild, so none of them would die with the bench. Linux (/proc) only; elsewhere it does nothing.
 */
function killDescendantsOnExit(): { dispose: () => void } {
  const onExit = () => {
    const children = new Map<number, number[]>();
    let entries: string[];
    try {
      entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
    } catch {
      return;
    }
    for (const entry of entries) {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
      } catch {
        // gone meanwhile
      }
    }
    const pending = [...(children.get(process.pid) ?? [])];
    for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
      pending.push(...(children.get(pid) ?? []));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', onExit);
  return { dispose: () => { process.off('exit', onExit); } };
}

async function requireExecutable(name: string): Promise<string> {
  const path = await findExecutable(name);
  if (path === undefined) throw new Error(`missing ${name}: run \`npm run bootstrap\` as root, or apt-get install --no-install-recommends redis-server redis-sentinel prometheus prometheus-alertmanager`);
  return path;
}

/** The median (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
  return round3(value);
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
