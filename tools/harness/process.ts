import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/** How a child process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process started by the harness (tests, bench, lab), with its output kept for diagnosis. */
export interface HarnessProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** -1 when the spawn failed. */
  readonly pid: number;
  /** Set with `logFile`: where its output goes instead of memory. */
  readonly logFile: string | undefined;
  readonly exited: Promise<ProcessExit>;
  readonly running: () => boolean;
  /** Its last 256 KiB of output (stdout and stderr interleaved). */
  readonly output: () => string;
  /** The last `lines` lines of its output, for an error message. */
  readonly tail: (lines?: number) => string;
  /** SIGTERM to its process group, SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to its process group (a crash: the process and everything it started). */
  kill(): Promise<void>;
}

/** What {@link startProcess} takes besides the command. */
export interface StartProcessOptions {
  /** A name for messages (default: the command). */
  name?: string;
  cwd?: string;
  /** The whole environment of the child (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /**
   * Appends stdout and stderr to this file instead of keeping them in memory: a busy server (the bench's) logs more
   * than is worth holding, and the file stays for a look afterwards.
   */
  logFile?: string;
}

const outputLimit = 256 * 1024; // the last 256 KiB: enough to explain a failure, bounded for long runs

/**
 * Process groups of the children still running, SIGKILLed when this process exits before stopping them (an
 * error, Ctrl-C with process.exit): they run detached, so nothing else would end them. Children are a
 * process-wide resource, which is why this one piece of state lives at module level.
 */
const runningGroups = new Set<number>();
let exitHookInstalled = false;

function killRunningGroups(): void {
  for (const pid of runningGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The last `limit` bytes of `path`, read now. */
function readTail(path: string, limit: number): string {
  let fd: number | undefined;
  try {
    const size = statSync(path).size;
    const length = Math.min(size, limit);
    const buffer = Buffer.alloc(length);
    fd = openSync(path, 'r');
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Spawns `command` in its own process group, so that stopping it stops everything it started, with its output
 * kept (in memory, or in `options.logFile`). The one spawner of the tests, the bench and the lab.
 */
export function startProcess(command: string, args: readonly string[], options: StartProcessOptions = {}): HarnessProcess {
  const name = options.name ?? command;
  let memory = '';
  const keep = (chunk: string) => {
    memory = (memory + chunk).slice(-outputLimit);
  };
  let child: ChildProcess;
  const base = { cwd: options.cwd, env: options.env ?? process.env, detached: true } as const;
  if (options.logFile === undefined) {
    child = spawn(command, args, { ...base, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.setEncoding('utf8').on('data', keep);
    child.stderr?.setEncoding('utf8').on('data', keep);
  } else {
    const fd = openSync(options.logFile, 'a');
    try {
      child = spawn(command, args, { ...base, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
  }
  const pid = child.pid ?? -1;
  if (pid > 0) {
    runningGroups.add(pid);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', killRunningGroups);
    }
  }
  let done = false;
  const exited = new Promise<ProcessExit>((resolve) => {
    const finish = (exit: ProcessExit) => {
      done = true;
      runningGroups.delete(pid);
      resolve(exit);
    };
    child.once('exit', (code, signal) => {
      finish({ code, signal });
    });
    child.once('error', (error) => {
      keep(`${name}: ${error.message}\n`);
      finish({ code: null, signal: null });
    });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    if (done || pid < 0) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  const output = () => (options.logFile === undefined ? memory : readTail(options.logFile, outputLimit) + memory);
  return {
    name,
    child,
    pid,
    logFile: options.logFile,
    exited,
    running: () => !done,
    output,
    tail: (lines = 20) => output().trimEnd().split('\n').slice(-lines).join('\n'),
    async stop(graceMs = 5000) {
      if (done) return;
      signalGroup('SIGTERM');
      const timer = setTimeout(() => {
        signalGroup('SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      signalGroup('SIGKILL');
      await exited;
    },
  };
}
