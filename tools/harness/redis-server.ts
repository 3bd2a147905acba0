import { mkdir } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { freePort } from '../../src/util/free-port.js';
import { startProcess, type HarnessProcess, type StartProcessOptions } from './process.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait.js';

/** What {@link startRedis} starts; every option has the default most callers want. */
export interface RedisServerOptions {
  /** Its data directory, created when missing and left to its owner; a fresh temp dir (removed by `stop`) when not given. */
  dir?: string;
  /** A free port when not given. */
  port?: number;
  /** requirepass, and masterauth for when it replicates; `url` and every client carry it. */
  password?: string;
  /** The primary this server replicates (--replicaof): a port on 127.0.0.1, or a host and port. */
  replicaOf?: number | { host: string; port: number };
  /** The address it binds and clients use (default 127.0.0.1; another needs `password`, or protected mode refuses). */
  host?: string;
  /** How to start the process (default {@link startProcess}); the partition lab starts it inside a namespace. */
  spawn?: (command: string, args: readonly string[], options: StartProcessOptions) => HarnessProcess;
  /** AOF persistence (default on, as remediator's embedded Redis); off, the server keeps nothing on disk. */
  appendOnly?: boolean;
  /** More arguments, last (e.g. `--replicaof host port`). */
  args?: string[];
  /** A name for messages (default `redis-server <port>`). */
  name?: string;
  /** The redis-server program (default: the one on PATH). */
  binary?: string;
  /** Its output goes to this file instead of memory. */
  logFile?: string;
}

/** A real redis-server on loopback, owned by one test, bench round or lab. */
export interface RedisServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** host:port, as replicas and inventories name it. */
  readonly address: string;
  readonly dir: string;
  /** The server process now running (a new one after `resume`). */
  readonly process: () => HarnessProcess;
  /** A new client that reconnects (closed by `stop`). */
  client(): Redis;
  /** Stops the server, keeping its data and port (for outage tests). */
  pause(): Promise<void>;
  /** SIGKILL, as a crash: no shutdown save, data and port kept for `resume`. */
  crash(): Promise<void>;
  /** Starts it again on the same port with the same data; resolves once it answers PING. */
  resume(): Promise<void>;
  /** Closes its clients, stops it and removes the temp dir it made; safe to call twice. */
  stop(): Promise<void>;
}

/** The arguments of every Redis the harness starts: loopback, in the foreground, no waits on shutdown or sync. */
export function redisServerArgs(options: {
  port: number;
  dir: string;
  password?: string | undefined;
  replicaOf?: number | { host: string; port: number } | undefined;
  appendOnly?: boolean | undefined;
  host?: string | undefined;
}): string[] {
  const primary = typeof options.replicaOf === 'number' ? { host: '127.0.0.1', port: options.replicaOf } : options.replicaOf;
  return [
    '--bind',
    options.host ?? '127.0.0.1',
    '--port',
    String(options.port),
    '--dir',
    options.dir,
    '--appendonly',
    options.appendOnly === false ? 'no' : 'yes',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'no',
    '--shutdown-timeout',
    '0',
    // A replica syncs at once instead of after the default 5 s wait for more replicas to share the transfer.
    '--repl-diskless-sync-delay',
    '0',
    ...(options.password === undefined ? [] : ['--requirepass', options.password, '--masterauth', options.password]),
    ...(primary === undefined ? [] : ['--replicaof', primary.host, String(primary.port)]),
  ];
}

/**
 * Starts redis-server (on loopback unless `host` says otherwise) and resolves once it answers PING; a server that exits while starting fails at
 * once with its output.
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const owned = options.dir === undefined ? await tempDir('remediator-redis-') : undefined;
  const dir = options.dir ?? owned?.path ?? '';
  if (!owned) await mkdir(dir, { recursive: true });
  const port = options.port ?? (await freePort());
  const name = options.name ?? `redis-server ${port}`;
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  const host = options.host ?? '127.0.0.1';
  const url = `redis://${auth}${host}:${port}`;
  const args = [
    ...redisServerArgs({ port, dir, password: options.password, replicaOf: options.replicaOf, appendOnly: options.appendOnly, host }),
    ...(options.args ?? []),
  ];
  const clients: Redis[] = [];
  let server: HarnessProcess | undefined;
  const launch = async () => {
    const started = (options.spawn ?? startProcess)(options.binary ?? 'redis-server', args, {
      name,
      ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
    });
    server = started;
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    try {
      await waitFor(
        `${name} to answer PING`,
        async () => {
          if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
          await probe.ping();
          return true;
        },
        { timeoutMs: 10_000, processes: [started] },
      );
    } finally {
      probe.disconnect();
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      for (const client of clients) client.disconnect();
      await server?.stop();
      await owned?.remove();
    })();
    return stopping;
  };
  try {
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name,
    url,
    port,
    address: `${host}:${port}`,
    dir,
    process: () => {
      if (!server) throw new Error(`${name} was never started`);
      return server;
    },
    client() {
      const client = new Redis(url, { maxRetriesPerRequest: null });
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
    async pause() {
      await server?.stop();
    },
    async crash() {
      await server?.kill();
    },
    resume: launch,
    stop,
  };
}
