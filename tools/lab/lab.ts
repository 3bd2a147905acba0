import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { parseInfo } from '../../src/inventory/redis-info.js';
import { findExecutable } from '../../src/redis/embedded-redis.js';
import { freePort } from '../../src/util/free-port.js';
import { launchAlertmanager } from '../harness/alertmanager.js';
import { findNginxRtmpPrograms, type NginxRtmpPrograms } from '../harness/nginx-rtmp.js';
import type { HarnessProcess } from '../harness/process.js';
import { launchPrometheus } from '../harness/prometheus.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { runRemediator, type RemediatorCommand } from '../harness/remediator-process.js';
import { tempDir, type TempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait.js';
import { writeLabMonitoringConfigs } from './lab-config.js';
import { labStreamCluster, startLabStreams, type LabStreams } from './lab-streams.js';

/** The lab's Redis cluster `cache`: cache-a starts as the primary, cache-b (preferred) and cache-c as its replicas. */
export const labMembers = ['cache-a', 'cache-b', 'cache-c'] as const;
/** A member of the lab's Redis cluster. */
export type LabMemberName = (typeof labMembers)[number];

/** The programs the lab runs, named as on this machine. */
export interface LabPrograms {
  readonly redis: string;
  readonly prometheus: string;
  readonly alertmanager: string;
  readonly streams: NginxRtmpPrograms;
}

/** Looks for the lab's programs; when some are missing, the Debian packages that provide them. */
export async function findLabPrograms(): Promise<{ found: true; programs: LabPrograms } | { found: false; missingPackages: string[] }> {
  const [redis, prometheus, alertmanager, streams] = await Promise.all([
    findExecutable('redis-server'),
    findExecutable('prometheus'),
    findExecutable('prometheus-alertmanager'),
    findNginxRtmpPrograms(),
  ]);
  if (redis !== undefined && prometheus !== undefined && alertmanager !== undefined && streams.found) {
    return { found: true, programs: { redis, prometheus, alertmanager, streams: streams.programs } };
  }
  // The binaries are named as their Debian packages.
  const missingPackages = [
    ...(redis === undefined ? ['redis-server'] : []),
    ...(prometheus === undefined ? ['prometheus'] : []),
    ...(alertmanager === undefined ? ['prometheus-alertmanager'] : []),
    ...(streams.found ? [] : streams.missingPackages),
  ];
  return { found: false, missingPackages };
}

/** One member of the lab's Redis cluster. */
export interface LabMember {
  readonly name: LabMemberName;
  /** 127.0.0.1:port, as replicas report their primary. */
  readonly address: string;
  readonly server: RedisServer;
  /** A fail-fast connection (no offline queue, no retries per command), for probes. */
  readonly probe: Redis;
}

/** The lab's topology, up and watched: Redis, the exporter, Prometheus, Alertmanager and the stream cluster. */
export interface Lab {
  readonly dir: string;
  /** requirepass of every member (also in `dir`/redis-password for the inventory). */
  readonly password: string;
  /** The webhook's bearer token, as Alertmanager sends it and the receiver expects it. */
  readonly tokenFile: string;
  /** The directory holding inventory.yaml (remediator serve's REMEDIATIONS_DIR in the demo). */
  readonly remediations: string;
  readonly members: readonly LabMember[];
  readonly streams: LabStreams;
  readonly urls: { prometheus: string; alertmanager: string; exporter: string; streamStat: string };
  member(name: string): LabMember;
  /** A new fail-fast connection to a member, closed by `stop`. */
  client(name: string): Redis;
  /** INFO replication of a member, parsed; undefined when it does not answer. */
  info(name: string): Promise<Map<string, string> | undefined>;
  /** SIGKILLs a member, as a crash; the lab expects it down until `revive`. */
  crash(name: string): Promise<void>;
  /** Starts a crashed member again with its data, as it was configured (the primary comes back as a primary). */
  revive(name: string): Promise<void>;
  /** Keeps `process` for the lab's life: its exit fails every wait of the lab, and `stop` stops it. */
  keep(process: HarnessProcess): void;
  /** Throws when a process of the lab has exited (a member it crashed aside) or the stream cluster failed. */
  check(): void;
  /** waitFor that ends at once when `check` throws. */
  waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs: number, intervalMs: number): Promise<NonNullable<T>>;
  /**
   * Waits until Prometheus scrapes every target and knows Alertmanager, the exporter reports cache-a as primary, and
   * the stream cluster publishes (so every panel has data and no alert ever fires for it).
   */
  ready(): Promise<void>;
  /** Stops every process, closes every connection and removes `dir`; safe to call twice. */
  stop(): Promise<void>;
}

/** Where the lab runs and who receives its webhooks. */
export interface LabOptions {
  programs: LabPrograms;
  /** The repository: prometheus/, rules/. */
  root: string;
  /** How to run remediator (its exporter here; the demo runs serve the same way). */
  self: RemediatorCommand;
  /** Prefix of the lab's temp dir. */
  prefix: string;
  log: (line: string) => void;
  /**
   * The webhook receiver (remediator serve, or a recorder standing in for it): Alertmanager posts to its port and
   * Prometheus scrapes it. `start` runs once Redis has synced and the inventory is written, before the exporter.
   */
  receiver: { name: string; port: number; start(lab: Lab): Promise<void> };
  /** Prometheus' scrape and evaluation interval (lab-config.ts; default 1 s). */
  scrapeIntervalMs?: number;
}

/**
 * Starts the lab in a temp dir, all on loopback: the stream cluster (in the background), three password-protected
 * Redis members, the receiver, `remediator exporter` on the inventory, and Prometheus and Alertmanager configured
 * from the project's prometheus/ with lab timings. On failure it stops what it started.
 */
export async function startLab(options: LabOptions): Promise<Lab> {
  const { programs, root, log, receiver } = options;
  const dir: TempDir = await tempDir(options.prefix);
  const kept: HarnessProcess[] = [];
  const clients: Redis[] = [];
  const members: LabMember[] = [];
  const crashed = new Set<string>();
  const ports = { exporter: await freePort(), prometheus: await freePort(), alertmanager: await freePort() };
  const streamPorts = { rtmp: await freePort(), http: await freePort() };
  // The stream cluster starts in the background, while Redis syncs; `ready` waits for it before the fault.
  const streams = startLabStreams({ dir: dir.path, programs: programs.streams, rtmpPort: streamPorts.rtmp, httpPort: streamPorts.http });
  let streamsReady = false;
  const password = randomBytes(12).toString('hex');
  const tokenFile = join(dir.path, 'webhook-token');
  const urls = {
    prometheus: `http://127.0.0.1:${ports.prometheus}`,
    alertmanager: `http://127.0.0.1:${ports.alertmanager}`,
    exporter: `http://127.0.0.1:${ports.exporter}/metrics`,
    streamStat: streams.statUrl,
  };
  const remediations = join(dir.path, 'remediations');
  const newClient = (port: number) => {
    const connection = new Redis({
      host: '127.0.0.1',
      port,
      password,
      lazyConnect: true,
      connectTimeout: 300,
      commandTimeout: 300,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 200,
      enableOfflineQueue: false,
    });
    connection.on('error', () => undefined);
    clients.push(connection);
    return connection;
  };
  const member = (name: string) => {
    const found = members.find((candidate) => candidate.name === name);
    if (!found) throw new Error(`the lab has no member ${name}`);
    return found;
  };
  let stopping: Promise<void> | undefined;
  const lab: Lab = {
    dir: dir.path,
    password,
    tokenFile,
    remediations,
    members,
    streams,
    urls,
    member,
    client: (name) => newClient(member(name).server.port),
    async info(name) {
      const connection = member(name).probe;
      if (connection.status === 'wait' || connection.status === 'end') await connection.connect().catch(() => undefined);
      return parseInfo(await connection.info('replication'));
    },
    async crash(name) {
      crashed.add(name);
      await member(name).server.crash();
    },
    async revive(name) {
      await member(name).server.resume();
      crashed.delete(name);
    },
    keep(process) {
      kept.push(process);
    },
    check() {
      const dead = [
        ...kept,
        ...members.filter((candidate) => !crashed.has(candidate.name)).map((candidate) => candidate.server.process()),
      ].find((process) => !process.running());
      if (dead) throw new Error(`${dead.name} exited:\n${dead.output().slice(-2000)}`);
      // Before it is ready, a failed start surfaces where `ready` awaits it, at once rather than after a timeout.
      if (streamsReady) streams.check();
    },
    waitFor(what, check, timeoutMs, intervalMs) {
      const failure = () => {
        try {
          lab.check();
          return undefined;
        } catch (error) {
          return new Error(`while waiting for ${what}: ${(error as Error).message}`);
        }
      };
      return waitFor(what, check, { timeoutMs, intervalMs, failure });
    },
    ready: () =>
      waitLabReady(
        lab,
        receiver.name,
        () => {
          streamsReady = true;
        },
        log,
      ),
    stop() {
      stopping ??= (async () => {
        for (const connection of clients) connection.disconnect();
        await Promise.all([
          ...kept.map((process) => process.stop(5000)),
          ...members.map((candidate) => candidate.server.stop()),
          streams.stop(),
        ]);
        await dir.remove();
      })();
      return stopping;
    },
  };
  try {
    await writeFile(join(dir.path, 'redis-password'), password);
    await writeFile(tokenFile, randomBytes(16).toString('hex'));
    log('starting Redis: cache-a (primary), cache-b, cache-c (replicas)…');
    const primaryPort = await freePort();
    const started = await Promise.allSettled(
      labMembers.map(async (name, index) =>
        startRedis({
          name,
          dir: join(dir.path, name),
          port: index === 0 ? primaryPort : await freePort(),
          password,
          binary: programs.redis,
          ...(index === 0 ? {} : { replicaOf: primaryPort }),
        }),
      ),
    );
    started.forEach((result, index) => {
      const name = labMembers[index];
      if (result.status === 'fulfilled' && name)
        members.push({ name, address: result.value.address, server: result.value, probe: newClient(result.value.port) });
    });
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    await lab.waitFor(
      'the Redis replicas to sync',
      async () => {
        const states = await Promise.all(['cache-b', 'cache-c'].map((name) => lab.info(name)));
        return states.every((state) => state?.get('master_link_status') === 'up');
      },
      20_000,
      100,
    );

    await mkdir(remediations);
    const inventory = {
      clusters: {
        cache: {
          kind: 'redis',
          credentials: { passwordFile: join(dir.path, 'redis-password') },
          members: members.map(({ name, address }) => ({ name, address, ...(name === 'cache-b' ? { priority: 10 } : {}) })),
        },
        [labStreamCluster]: streams.inventoryCluster,
      },
    };
    await writeFile(join(remediations, 'inventory.yaml'), stringify(inventory));
    await receiver.start(lab);
    kept.push(
      runRemediator(
        ['exporter', '--port', String(ports.exporter)],
        {
          LOG_LEVEL: 'warn',
          INVENTORY_FILE: join(remediations, 'inventory.yaml'),
          EXPORTER_PROBE_TIMEOUT_MS: '500',
        },
        { command: options.self, cwd: root, name: 'exporter' },
      ),
    );

    // Prometheus and Alertmanager, configured from prometheus/ with lab timings.
    await writeLabMonitoringConfigs({
      root,
      dir: dir.path,
      ports: { ...ports, webhook: receiver.port },
      ...(options.scrapeIntervalMs === undefined ? {} : { scrapeIntervalMs: options.scrapeIntervalMs }),
    });
    kept.push(
      launchAlertmanager({
        configFile: join(dir.path, 'alertmanager.yml'),
        dataDir: join(dir.path, 'alertmanager'),
        port: ports.alertmanager,
        binary: programs.alertmanager,
      }),
      launchPrometheus({
        configFile: join(dir.path, 'prometheus.yml'),
        dataDir: join(dir.path, 'prometheus'),
        port: ports.prometheus,
        binary: programs.prometheus,
      }),
    );
    return lab;
  } catch (error) {
    await lab.stop();
    throw error;
  }
}

async function waitLabReady(lab: Lab, receiver: string, streamsStarted: () => void, log: (line: string) => void): Promise<void> {
  const query = async (promql: string) => {
    const body = (await (await fetch(`${lab.urls.prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as {
      data: { result: unknown[] };
    };
    return body.data.result.length;
  };
  await lab.waitFor(
    'Prometheus to scrape every target',
    async () => {
      const body = (await (await fetch(`${lab.urls.prometheus}/api/v1/targets`)).json()) as {
        data: { activeTargets: { health: string }[] };
      };
      return body.data.activeTargets.length === 3 && body.data.activeTargets.every((target) => target.health === 'up');
    },
    60_000,
    250,
  );
  log(`  Prometheus scrapes ${receiver}, the exporter and itself`);
  await lab.waitFor(
    'Prometheus to find Alertmanager',
    async () => {
      const body = (await (await fetch(`${lab.urls.prometheus}/api/v1/alertmanagers`)).json()) as {
        data: { activeAlertmanagers: unknown[] };
      };
      return body.data.activeAlertmanagers.length > 0;
    },
    60_000,
    250,
  );
  await lab.waitFor(
    'the exporter to report the primary',
    async () => (await query('remediator_member_up{cluster="cache",role="primary"} == 1')) === 1,
    60_000,
    250,
  );
  // The stream cluster is background: no line of its own, but its member must be up and its stream published in
  // Prometheus before the fault, so every stream panel has data and no alert ever fires for it.
  await lab.streams.ready;
  streamsStarted();
  await lab.waitFor(
    'the exporter to report the published stream',
    async () => {
      const promql = `remediator_stream_up{cluster="${labStreamCluster}"} == 1 and on (cluster, instance) remediator_member_up{cluster="${labStreamCluster}"} == 1`;
      return (await query(promql)) === 1;
    },
    30_000,
    250,
  );
  log('  Alertmanager discovered; the exporter sees cache-a as primary');
}
