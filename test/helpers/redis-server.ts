import { Redis } from 'ioredis';
import { freePort } from '../../src/util/free-port.js';
import { startProcess, type TestProcess } from './child-process.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait.js';

/** A real redis-server on loopback, owned by one test. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** A new client (closed by `stop`). */
  client(): Redis;
  /** Stops the server, keeping its data and port (for outage tests). */
  pause(): Promise<void>;
  /** SIGKILL, as a crash: no shutdown save, data and port kept for `resume`. */
  crash(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts redis-server with AOF in a temp dir on a free port; `args` are added (e.g. --replicaof host port).
 * With `password`, the server runs with requirepass and `url` (and every client) carries the password.
 */
export async function startRedis(options: { args?: string[]; password?: string } = {}): Promise<TestRedis> {
  const dir = await tempDir('remediator-redis-');
  const port = await freePort();
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  const url = `redis://${auth}127.0.0.1:${port}`;
  const clients: Redis[] = [];
  let server: TestProcess | undefined;
  const launch = async () => {
    server = startProcess('redis-server', [
      '--bind', '127.0.0.1', '--port', String(port), '--dir', dir.path, '--appendonly', 'yes', '--save', '',
      '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--shutdown-timeout', '0', '--repl-diskless-sync-delay', '0',
      ...(options.password === undefined ? [] : ['--requirepass', options.password]), ...(options.args ?? []),
    ]);
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    await waitFor(`redis-server on ${port}`, async () => {
      if (probe.status !== 'ready') await probe.connect().catch(() => undefined);
      await probe.ping();
      return true;
    }, 10_000);
    probe.disconnect();
  };
  await launch();
  return {
    url,
    port,
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
    async stop() {
      for (const client of clients) client.disconnect();
      await server?.stop();
      await dir.remove();
    },
  };
}
