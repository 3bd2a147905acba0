import { spawn } from 'node:child_process';
import { access, constants, readFile, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { connect } from 'node:net';
import type { Logger } from 'pino';
import { AppError, errorCodes } from '../core/errors/index.js';
import { freePort } from '../util/free-port.js';
import { isRunning } from '../util/process-status.js';
import { sleep } from '../util/sleep.js';
import {
  embeddedRedisStateFile,
  embeddedRedisUrl,
  readEmbeddedRedisState,
  writeEmbeddedRedisState,
  type EmbeddedRedisDir,
} from './embedded-redis-files.js';

/** A redis-server run (or adopted) and watched by this process. */
export interface EmbeddedRedis {
  /** Carries the password: hand it to clients, never to a log line. */
  readonly url: string;
  /** The server's pid now; it changes when a dead server is started again. */
  readonly pid: number | undefined;
  /** How often a dead server was started again. */
  readonly restarts: number;
  stop(): Promise<void>;
}

/** How a dead server is started again. */
export interface RestartPolicy {
  /** Failed starts in a row before giving up. */
  readonly attempts: number;
  /** The wait before the second attempt (the first is immediate); doubled for each further one. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** How often the pid of an adopted server (not our child: no exit event) is checked. */
  readonly watchIntervalMs: number;
}

/** Five attempts over about 7 s, then the process exits and its own supervisor takes over. */
export const defaultRestartPolicy: RestartPolicy = { attempts: 5, initialDelayMs: 500, maxDelayMs: 5000, watchIntervalMs: 1000 };

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

/** What a server on a port answers: PONG (with `password`: only after accepting it), anything else, or nothing. */
type ProbeResult = 'pong' | 'auth' | 'down';

/** A RESP command. */
function command(...words: string[]): string {
  return `*${words.length}\r\n${words.map((word) => `$${Buffer.byteLength(word)}\r\n${word}\r\n`).join('')}`;
}

/**
 * PING, after AUTH when `password` is given, on a raw connection: a client library would send HELLO first and
 * report a refused password only as a closed connection, and warn on stderr when a server needs none.
 */
function probe(port: number, password: string | undefined, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolveProbe) => {
    const socket = connect({ host: '127.0.0.1', port });
    const expected = password === undefined ? 1 : 2;
    let received = '';
    const done = (result: ProbeResult) => {
      clearTimeout(timer);
      socket.destroy();
      resolveProbe(result);
    };
    const timer = setTimeout(() => {
      done('down');
    }, timeoutMs);
    socket.once('error', () => {
      done('down');
    });
    socket.once('close', () => {
      done('down');
    });
    socket.once('connect', () => {
      socket.write(`${password === undefined ? '' : command('AUTH', password)}${command('PING')}`);
    });
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      received += chunk;
      const replies = received.split('\r\n');
      if (replies.length <= expected) return;
      const accepted = password === undefined || replies[0] === '+OK';
      // LOADING (the AOF is being read) and the like: up but not serving yet.
      if (accepted && replies[expected - 1] === '+PONG') done('pong');
      else done(/^-(NOAUTH|WRONGPASS|ERR AUTH)/.test(replies.find((reply) => reply.startsWith('-')) ?? '') ? 'auth' : 'down');
    });
  });
}

/**
 * Whether `pid` is the redis-server recorded for `port`, not a process that got its pid since: redis-server
 * titles itself `redis-server 127.0.0.1:<port>`. Without /proc, a live pid has to do.
 */
async function isRecordedServer(pid: number, port: number): Promise<boolean> {
  if (!(await isRunning(pid))) return false;
  try {
    const title = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
    return title.includes('redis-server') && title.includes(`:${port}`);
  } catch {
    return true;
  }
}

/** SIGTERM (Redis writes its AOF and exits), SIGKILL after `graceMs`; resolves once the process is gone. */
async function terminate(pid: number, graceMs: number): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  for (const deadline = Date.now() + graceMs; Date.now() < deadline && (await isRunning(pid));) await sleep(50);
  if (!(await isRunning(pid))) return;
  signal('SIGKILL');
  for (const deadline = Date.now() + 5000; Date.now() < deadline && (await isRunning(pid));) await sleep(50);
}

/** One started redis-server: its pid and when it exits. */
interface Launched {
  readonly pid: number;
  readonly exited: Promise<string>;
}

/**
 * Starts redis-server on loopback and `port` with its data in `dir`. The password reaches it on stdin (`-` reads
 * configuration from there), so it is neither in argv (`ps`) nor in a file other than the password file.
 */
async function launch(binary: string, dir: string, port: number, password: string, startTimeoutMs: number): Promise<Launched> {
  const args = [
    '-',
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
    '--protected-mode',
    'yes',
    '--daemonize',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
  ];
  // Every file Redis creates (the AOF directory and files, rewrites, its log) must be private from the start. Node
  // has no per-child umask, but spawn forks synchronously: the process's umask is tightened for that call only.
  const previousUmask = process.umask(0o077);
  let child;
  try {
    // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and Redis must outlive
    // remediator's drain so in-flight steps can still checkpoint; remediator stops it last.
    child = spawn(binary, args, { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  } finally {
    process.umask(previousUmask);
  }
  child.unref();
  child.stdin.on('error', () => undefined);
  child.stdin.end(`requirepass ${password}\n`);
  let exitedAs: string | undefined;
  const exited = new Promise<string>((resolveExit) => {
    child.once('exit', (code, signal) => {
      resolveExit(signal ?? `exit ${String(code)}`);
    });
    child.once('error', (error) => {
      resolveExit(error.message);
    });
  });
  void exited.then((how) => {
    exitedAs = how;
  });
  const { pid } = child;
  if (pid === undefined) throw new AppError(errorCodes.REDIS_START_FAILED, `redis-server could not be started: ${await exited}`);
  const deadline = Date.now() + startTimeoutMs;
  while ((await probe(port, password, 500)) !== 'pong') {
    if (exitedAs !== undefined || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = await readFile(join(dir, 'redis.log'), 'utf8').catch(() => '');
      throw new AppError(
        errorCodes.REDIS_START_FAILED,
        `redis-server did not start (${exitedAs ?? 'no answer in time'}): ${log.trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
    await sleep(50);
  }
  return { pid, exited };
}

/**
 * A server an earlier remediator on this directory left running (it was killed): adopted when it answers with
 * our password. One without a password (left by a version that set none) or with another one is stopped, so the
 * caller starts a protected server on the same data: an unprotected Redis lets any local user forge approvals.
 */
async function adopt(dir: string, password: string, logger: Logger): Promise<{ pid: number; port: number } | undefined> {
  const state = await readEmbeddedRedisState(dir);
  if (state === undefined || !(await isRecordedServer(state.pid, state.port))) return undefined;
  const open = await probe(state.port, undefined, 500);
  if (open === 'auth' && (await probe(state.port, password, 500)) === 'pong') return state;
  const why = {
    down: 'does not answer (it must not share its files with a second server)',
    pong: 'has no password',
    auth: 'has another password',
  }[open];
  logger.warn(
    { pid: state.pid },
    `the embedded Redis an earlier process left running ${why}: stopping it to start a protected one on the same data`,
  );
  await terminate(state.pid, 10_000);
  return undefined;
}

/**
 * Starts a private redis-server on loopback and a free port, with its data (AOF, so queued runs survive a
 * restart) in `dir` and `password` required, or adopts the one an earlier process left running on it. Then it
 * watches the server: a server that dies is started again on the same port (so the URL, and with it every
 * client's reconnection, stays valid), with backoff; after `restart.attempts` failures in a row `onGiveUp` is
 * called, and the process should exit so that its own supervisor restarts it.
 */
export async function startEmbeddedRedis(
  options: EmbeddedRedisDir & {
    logger: Logger;
    binary?: string;
    startTimeoutMs?: number;
    restart?: Partial<RestartPolicy>;
    onGiveUp?: (error: unknown) => void;
  },
): Promise<EmbeddedRedis> {
  const { dir, password, logger } = options;
  const policy = { ...defaultRestartPolicy, ...options.restart };
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const binary = async () => {
    const found = options.binary ?? (await findExecutable('redis-server'));
    if (found === undefined) throw new AppError(errorCodes.REDIS_BINARY_MISSING, redisInstallHint);
    return found;
  };

  let current: { pid: number; port: number; exited?: Promise<string> };
  const adopted = await adopt(dir, password, logger);
  if (adopted) {
    current = adopted;
    logger.warn({ pid: adopted.pid, address: `127.0.0.1:${adopted.port}` }, 'adopting the embedded Redis an earlier process left running');
  } else {
    const port = await freePort();
    const launched = await launch(await binary(), dir, port, password, startTimeoutMs);
    current = { ...launched, port };
    await writeEmbeddedRedisState(dir, { pid: launched.pid, port });
    logger.info({ pid: launched.pid, address: `127.0.0.1:${port}`, dir }, 'embedded Redis started');
  }

  let stopping: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  let restarts = 0;
  let poll: NodeJS.Timeout | undefined;

  const died = (how: string) => {
    if (stopping || restarting) return;
    restarting = restart(how).finally(() => {
      restarting = undefined;
    });
  };
  const watch = () => {
    const watched = current;
    if (watched.exited) {
      void watched.exited.then(died);
      return;
    }
    // Not our child, so no exit event: look at its pid.
    poll = setInterval(() => {
      void isRunning(watched.pid).then((running) => {
        if (running || watched !== current) return;
        clearInterval(poll);
        died('its process is gone');
      });
    }, policy.watchIntervalMs);
    poll.unref();
  };
  const restart = async (how: string) => {
    const { port } = current;
    logger.error({ pid: current.pid, how }, 'the embedded Redis died: starting it again on the same port');
    let lastError: unknown;
    for (let attempt = 1; attempt <= policy.attempts; attempt++) {
      if (attempt > 1) await sleep(Math.min(policy.initialDelayMs * 2 ** (attempt - 2), policy.maxDelayMs));
      if (stopping) return;
      let launched: Launched;
      try {
        launched = await launch(await binary(), dir, port, password, startTimeoutMs);
      } catch (error) {
        lastError = error;
        logger.error({ err: error, attempt, attempts: policy.attempts }, 'could not restart the embedded Redis');
        continue;
      }
      current = { ...launched, port };
      restarts++;
      watch();
      logger.warn({ pid: launched.pid, attempt, restarts }, 'embedded Redis restarted');
      // Only a later start's adoption reads it: the server runs either way.
      await writeEmbeddedRedisState(dir, { pid: launched.pid, port }).catch((error: unknown) => {
        logger.warn({ err: error }, 'could not record the restarted embedded Redis');
      });
      return;
    }
    logger.fatal({ attempts: policy.attempts, err: lastError }, 'the embedded Redis cannot be started again: giving up');
    options.onGiveUp?.(lastError);
  };
  watch();

  return {
    url: embeddedRedisUrl(current.port, password),
    get pid() {
      return current.pid;
    },
    get restarts() {
      return restarts;
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(poll);
        await restarting;
        if (await isRecordedServer(current.pid, current.port)) await terminate(current.pid, 5000);
        await rm(embeddedRedisStateFile(dir), { force: true });
      })();
      return stopping;
    },
  };
}
