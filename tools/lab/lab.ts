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
import { createNetLab, type NetLab } from '../harness/netns.js';
import { startProcess, type HarnessProcess, type StartProcessOptions } from '../harness/process.js';
import { launchPrometheus } from '../harness/prometheus.js';
import { startRedis, type RedisServer } from '../harness/redis-server.js';
import { runRemediator, type RemediatorCommand } from '../harness/remediator-process.js';
import { tempDir, type TempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait.js';
import { writeLabMonitoringConfigs } from './lab-config.js';
import { waitLabReady } from './lab-ready.js';
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

/**
 * How every member runs: a primary accepts a write only while a replica acknowledged it within 2 s, and replicas hear
 * from it every second, so a primary cut off from its replicas (or back from a pause after a failover) refuses
 * writes within about 2 s instead of accepting writes that a failover will discard.
 */
export const labRedisArgs = ['--min-replicas-to-write', '1', '--min-replicas-max-lag', '2', '--repl-ping-replica-period', '1'];

/** The nodes of the partition lab besides the members: the write-probe client, and the monitor (this namespace). */
export const labNodes = { client: 'client', monitor: 'monitor' } as const;

/** One member of the lab's Redis cluster. */
export interface LabMember {
  readonly name: LabMemberName;
  /** host:port, as replicas report their primary (127.0.0.1 on loopback, the member's own address in namespaces). */
  readonly address: string;
  readonly host: string;
  readonly port: number;
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
  /** The partition harness, when the lab runs in namespaces: members, the client and the monitor (this namespace). */
  readonly net: NetLab | undefined;
  /** Starts a process where the lab's client lives (its namespace, or here on loopback). */
  spawnClient(command: string, args: readonly string[], options?: StartProcessOptions): HarnessProcess;
  /** Sends `signal` to a member's process (SIGSTOP pauses it, SIGCONT resumes it). */
  signal(name: string, signal: 'SIGSTOP' | 'SIGCONT'): void;
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
   * `namespaces`: every member and the client in a network namespace of its own, on a bridge with the monitor (this
   * namespace: remediator, the exporter, Prometheus, Alertmanager), so that any of them can be cut off
   * (tools/harness/netns.ts; needs CAP_NET_ADMIN). Default `loopback`: everything on 127.0.0.1.
   */
  network?: 'loopback' | 'namespaces';
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
  // Namespaces first: without CAP_NET_ADMIN the lab fails before it starts anything.
  const net =
    options.network === 'namespaces' ? await createNetLab({ nodes: [...labMembers, labNodes.client], host: labNodes.monitor }) : undefined;
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
  const newClient = (host: string, port: number) => {
    const connection = new Redis({
      host,
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
    net,
    client: (name) => newClient(member(name).host, member(name).port),
    spawnClient: (command, args, spawnOptions) =>
      net ? net.spawn(labNodes.client, command, args, spawnOptions) : startProcess(command, args, spawnOptions),
    signal(name, signal) {
      const { pid } = member(name).server.process();
      // The process group: `ip netns exec` execs, so the group is redis-server's own.
      if (pid > 0) process.kill(-pid, signal);
    },
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
        await net?.stop();
      })();
      return stopping;
    },
  };
  try {
    await writeFile(join(dir.path, 'redis-password'), password);
    await writeFile(tokenFile, randomBytes(16).toString('hex'));
    log('starting Redis: cache-a (primary), cache-b, cache-c (replicas)…');
    // In namespaces every member has its own address and the same port; on loopback, one address and free ports.
    const hostOf = (name: LabMemberName) => net?.address(name) ?? '127.0.0.1';
    const primary = { host: hostOf('cache-a'), port: net ? 6379 : await freePort() };
    const started = await Promise.allSettled(
      labMembers.map(async (name, index) =>
        startRedis({
          name,
          dir: join(dir.path, name),
          host: hostOf(name),
          port: index === 0 ? primary.port : net ? 6379 : await freePort(),
          password,
          binary: programs.redis,
          args: labRedisArgs,
          ...(index === 0 ? {} : { replicaOf: primary }),
          ...(net
            ? {
                spawn: (command: string, args: readonly string[], spawnOptions: StartProcessOptions) =>
                  net.spawn(name, command, args, spawnOptions),
              }
            : {}),
        }),
      ),
    );
    started.forEach((result, index) => {
      const name = labMembers[index];
      if (result.status === 'fulfilled' && name) {
        const { address, port } = result.value;
        members.push({ name, address, host: hostOf(name), port, server: result.value, probe: newClient(hostOf(name), port) });
      }
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
          // Members answer in a millisecond here: a hung one is down after 300 ms, the same bound remediator's
          // confirmation gives each probe (confirm.probeTimeout, 250 ms) give or take the scrape's own work.
          EXPORTER_PROBE_TIMEOUT_MS: '300',
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
