import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppError, errorCodes } from '../errors/index.js';
import { freePort } from '../util/free-port.js';
import { sleep } from '../util/sleep.js';

/** A redis-server owned by this process. */
export interface EmbeddedRedis {
  readonly url: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** How to get a redis-server, printed when none is found. */
export const redisInstallHint =
  'redis-server was not found on PATH. Either install it (Debian/Ubuntu: apt-get install --no-install-recommends redis-server) ' +
  'or point remediator at an existing Redis with REDIS_URL=redis://host:6379 (or at Sentinel with REDIS_SENTINELS and REDIS_SENTINEL_NAME).';

/** Finds an executable on PATH. */
export async function findExecutable(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function ping(url: string, timeoutMs: number): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a private redis-server on loopback and a free port, with its data (AOF, so queued runs survive a
 * restart) under `dataDir/redis`. If a server this directory owns is still running (its remediator was killed),
 * it is adopted rather than started twice on the same files.
 */
export async function startEmbeddedRedis(options: { dataDir: string; logger: Logger; binary?: string; startTimeoutMs?: number }): Promise<EmbeddedRedis> {
  const dir = resolve(options.dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const stateFile = join(dir, 'embedded.json');
  const adopted = await adopt(stateFile);
  if (adopted) {
    options.logger.warn({ pid: adopted.pid, url: adopted.url }, 'adopting the embedded Redis an earlier process left running');
    return handle(adopted.url, adopted.pid, undefined, stateFile);
  }

  const binary = options.binary ?? (await findExecutable('redis-server'));
  if (binary === undefined) throw new AppError(errorCodes.REDIS_BINARY_MISSING, redisInstallHint);
  const port = await freePort();
  const args = [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    '--maxmemory-policy', 'noeviction',
    '--protected-mode', 'yes',
    '--daemonize', 'no',
    '--logfile', join(dir, 'redis.log'),
  ];
  // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and Redis must outlive
  // remediator's drain so in-flight steps can still checkpoint; remediator stops it last.
  const child = spawn(binary, args, { stdio: 'ignore', detached: true });
  child.unref();
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => { resolveExit(code); }));
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  let exitCode: number | null | undefined;
  void exited.then((code) => { exitCode = code; });
  while (!(await ping(url, 500))) {
    if (exitCode !== undefined || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = await readFile(join(dir, 'redis.log'), 'utf8').catch(() => '');
      throw new AppError(errorCodes.REDIS_START_FAILED, `redis-server did not start (exit ${String(exitCode)}): ${log.trim().split('\n').slice(-3).join(' | ')}`);
    }
    await sleep(50);
  }
  await writeFile(stateFile, JSON.stringify({ pid: child.pid, url }));
  options.logger.info({ pid: child.pid, url, dir }, 'embedded Redis started');
  return handle(url, child.pid, child, stateFile);
}

async function adopt(stateFile: string): Promise<{ pid: number; url: string } | undefined> {
  try {
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as { pid?: unknown; url?: unknown };
    if (typeof state.pid === 'number' && typeof state.url === 'string' && isAlive(state.pid) && (await ping(state.url, 500))) {
      return { pid: state.pid, url: state.url };
    }
  } catch {
    // no state, or stale: start a new server
  }
  return undefined;
}

function handle(url: string, pid: number | undefined, child: ChildProcess | undefined, stateFile: string): EmbeddedRedis {
  let stopping: Promise<void> | undefined;
  return {
    url,
    pid,
    stop() {
      stopping ??= (async () => {
        if (pid !== undefined && isAlive(pid)) {
          process.kill(pid, 'SIGTERM');
          for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
          if (isAlive(pid)) process.kill(pid, 'SIGKILL');
        }
        child?.removeAllListeners();
        await rm(stateFile, { force: true });
      })();
      return stopping;
    },
  };
}
