import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** A child started by a test, with its combined output kept for assertions and failure messages. */
export interface TestProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to the whole process group (the child and anything it started). */
  kill(): Promise<void>;
}

/** Spawns a process in its own process group so a test can kill everything it started. */
export function startProcess(command: string, args: readonly string[], options: SpawnOptions = {}): TestProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => { resolve({ code, signal }); });
  });
  let done = false;
  void exited.then(() => { done = true; });
  const signalGroup = (signal: NodeJS.Signals) => {
    if (done || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    child,
    output: () => output,
    exited,
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
