import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/util/free-port.js';
import { startBenchProcess, waitFor, type BenchProcess } from './processes.js';

/** A redis-server started by the bench: loopback, a free port, AOF in a temp dir (as remediator's embedded one). */
export interface BenchRedis {
  readonly url: string;
  readonly process: BenchProcess;
  stop(): Promise<void>;
}

/** Starts redis-server the way `remediator serve` starts its embedded one (AOF, everysec, noeviction). */
export async function startBenchRedis(): Promise<BenchRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'remediator-bench-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const server = startBenchProcess('redis-server', 'redis-server', [
    '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec',
    '--save', '', '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--protected-mode', 'yes',
  ], { logFile: join(dir, 'redis.log') });
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  try {
    await waitFor(`redis-server on ${port}`, async () => {
      if (probe.status !== 'ready') await probe.connect();
      await probe.ping();
      return true;
    }, { timeoutMs: 10_000, process: server });
  } finally {
    probe.disconnect();
  }
  let stopping: Promise<void> | undefined;
  return {
    url,
    process: server,
    stop() {
      stopping ??= (async () => {
        await server.stop(5000);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
