import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { startProcess, type HarnessProcess } from './process.js';
import { repoRoot } from './repo-root.js';
import { waitFor } from './wait.js';

/** How to run remediator: a program and the arguments before remediator's own (`serve`, `exporter --port …`). */
export interface RemediatorCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/** remediator from its TypeScript sources: this node with tsx's loader on src/main.ts (as `npm run demo` runs it). */
export function sourceCommand(): RemediatorCommand {
  return { command: process.execPath, args: ['--import', 'tsx', join(repoRoot, 'src', 'main.ts')] };
}

/** How {@link runRemediator} runs the program. */
export interface RunRemediatorOptions {
  /** Default: {@link sourceCommand}. */
  command?: RemediatorCommand;
  /** Default: the repository's root. */
  cwd?: string;
  /** A name for messages (default `remediator`). */
  name?: string;
  /** Its output goes to this file instead of memory. */
  logFile?: string;
}

/** `remediator <args>` as a child process, with `env` on top of a minimal environment (PATH, HOME, LOG_LEVEL=info). */
export function runRemediator(args: readonly string[], env: Record<string, string>, options: RunRemediatorOptions = {}): HarnessProcess {
  const command = options.command ?? sourceCommand();
  return startProcess(command.command, [...command.args, ...args], {
    name: options.name ?? 'remediator',
    cwd: options.cwd ?? repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...env },
    ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
  });
}

/** `remediator serve` or `remediator exporter` as a separate process, listening. */
export interface RemediatorProcess extends HarnessProcess {
  readonly port: number;
  /** http://127.0.0.1:port */
  readonly url: string;
}

/** What {@link startRemediatorProcess} and {@link startExporterProcess} take besides the environment. */
export interface ListeningOptions extends RunRemediatorOptions {
  /** A free port when not given. */
  port?: number;
  /** The path that answers 2xx once it is up (default /healthz; /readyz waits for Redis too). */
  readyPath?: string;
  /** How long it may take to answer (default 30 s). */
  timeoutMs?: number;
}

/** Runs the command `start` gives for a port and waits until `readyPath` answers; a process that exits fails at once. */
async function startListening(
  what: string,
  start: (port: number) => { args: string[]; env: Record<string, string> },
  options: ListeningOptions,
): Promise<RemediatorProcess> {
  const port = options.port ?? (await freePort());
  const { args, env } = start(port);
  const running = runRemediator(args, { HOST: '127.0.0.1', ...env }, options);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${what} on ${port}`, async () => (await fetch(`${url}${options.readyPath ?? '/healthz'}`)).ok, {
      timeoutMs: options.timeoutMs ?? 30_000,
      intervalMs: 100,
      processes: [running],
    });
  } catch (error) {
    await running.stop();
    throw error;
  }
  return Object.assign(running, { port, url });
}

/** Starts `remediator serve [args]` on loopback and a free port and waits until /healthz answers. */
export function startRemediatorProcess(
  env: Record<string, string>,
  args: readonly string[] = [],
  options: ListeningOptions = {},
): Promise<RemediatorProcess> {
  return startListening('remediator', (port) => ({ args: ['serve', ...args], env: { PORT: String(port), ...env } }), options);
}

/** `remediator exporter` as a separate process. */
export interface ExporterProcess extends RemediatorProcess {
  /** host:port, as a Prometheus scrape target. */
  readonly address: string;
}

/**
 * Starts `remediator exporter` on loopback and a free port for `inventoryFile` and waits until /healthz answers.
 * `remediationsDir` needs no playbooks: the exporter reads only the inventory.
 */
export async function startExporterProcess(
  options: { inventoryFile: string; remediationsDir?: string; env?: Record<string, string> } & ListeningOptions,
): Promise<ExporterProcess> {
  const { inventoryFile, remediationsDir, env, ...listening } = options;
  const exporter = await startListening(
    'the exporter',
    (port) => ({
      args: ['exporter', '--port', String(port)],
      env: {
        INVENTORY_FILE: inventoryFile,
        ...(remediationsDir === undefined ? {} : { REMEDIATIONS_DIR: remediationsDir }),
        LOG_LEVEL: 'warn',
        ...env,
      },
    }),
    { name: 'exporter', ...listening },
  );
  return Object.assign(exporter, { address: `127.0.0.1:${exporter.port}` });
}
