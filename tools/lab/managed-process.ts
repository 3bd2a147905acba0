import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** A child process started by remediator (the lab) or its tests, with its output kept for diagnosis. */
export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly running: () => boolean;
  /** SIGTERM to its process group, SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to its process group (a crash: the process and everything it started). */
  kill(): Promise<void>;
}

const outputLimit = 256 * 1024; // keep the last 256 KiB: enough to explain a failure, bounded for long runs

/** Spawns `command` in its own process group so that stopping it stops everything it started. */
export function startManagedProcess(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
  let output = '';
  const keep = (chunk: string) => {
    output = (output + chunk).slice(-outputLimit);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', (error) => {
      keep(`${name}: ${error.message}\n`);
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    if (done || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    name,
    child,
    output: () => output,
    exited,
    running: () => !done,
    async stop(graceMs = 5000) {
      if (done) return;
      signalGroup('SIGTERM');
      const timer = setTimeout(() => { signalGroup('SIGKILL'); }, graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      signalGroup('SIGKILL');
      await exited;
    },
  };
}
