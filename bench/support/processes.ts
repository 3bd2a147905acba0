import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/ lives directly in it). */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A child process of the bench, its output in a log file (not in memory: a busy server logs a lot). */
export interface BenchProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** The last lines of its log, for an error message. */
  tail(lines?: number): Promise<string>;
  /** Peak resident set size so far (VmHWM), in MiB. */
  peakRssMb(): Promise<number>;
  /** CPU time used so far (user + system), in seconds. */
  cpuSeconds(): Promise<number>;
  /** SIGTERM to its process group, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Process groups of the children still running: killed if the bench itself exits early (an error, Ctrl-C). */
const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** CPU time (user + system) of process `pid` so far, in seconds, from /proc/<pid>/stat (clock ticks of 1/100 s). */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) in parentheses: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Spawns `command` in its own process group with stdout and stderr appended to `logFile`. */
export function startBenchProcess(name: string, command: string, args: readonly string[], options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string }): BenchProcess {
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  let done = false;
  if (child.pid !== undefined) running.add(child.pid);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      if (child.pid !== undefined) running.delete(child.pid);
      resolve({ code, signal });
    });
    child.once('error', () => {
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  const pid = child.pid ?? -1;
  const signalGroup = (signal: NodeJS.Signals) => {
    if (done || pid < 0) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    name,
    pid,
    logFile: options.logFile,
    exited,
    running: () => !done,
    async tail(lines = 20) {
      const text = await readFile(options.logFile, 'utf8').catch(() => '');
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    },
    async peakRssMb() {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
      if (!match?.[1]) throw new Error(`no VmHWM in /proc/${pid}/status`);
      return Number(match[1]) / 1024;
    },
    cpuSeconds: () => cpuSecondsOf(pid),
    async stop(graceMs = 10_000) {
      if (done) return;
      signalGroup('SIGTERM');
      const timer = setTimeout(() => { signalGroup('SIGKILL'); }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `check` every `intervalMs` until it is truthy; fails after `timeoutMs` or when `process` exits. */
export async function waitFor(what: string, check: () => Promise<boolean>, options: { timeoutMs: number; intervalMs?: number; process?: BenchProcess }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (options.process && !options.process.running()) throw new Error(`${options.process.name} exited while waiting for ${what}:\n${await options.process.tail()}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${options.process ? `:\n${await options.process.tail()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
