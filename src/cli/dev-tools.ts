import type { DashboardsGenerateOptions, DemoCommandOptions, SloGenerateOptions } from './program.js';

/** What a dev-time command reads and writes: the composition root hands over its process. */
export interface DevToolIo {
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** This same program, run the same way (tsx or node on dist/): the lab starts `serve` and `exporter` with it. */
  self: { command: string; args: string[] };
  /** Resolves when the user asks the command to stop (Ctrl-C). */
  stopRequested: Promise<void>;
}

/**
 * The dev-time commands (lint, demo, dashboards, SLO generation and playbook tests). They live in tools/, outside the runtime, so
 * the service image ships without them; each resolves to the process's exit code.
 */
export interface DevTools {
  lint(dir: string | undefined, io: DevToolIo): Promise<number>;
  demo(options: DemoCommandOptions, io: DevToolIo): Promise<number>;
  dashboardsGenerate(options: DashboardsGenerateOptions, io: DevToolIo): Promise<number>;
  sloGenerate(options: SloGenerateOptions, io: DevToolIo): Promise<number>;
  /** `remediator test FILE…`: playbook tests through the simulator (tools/playbook-tests/). */
  test(files: readonly string[], io: DevToolIo): Promise<number>;
}

/** Said when a dev-time command runs where tools/ is absent (the service image). */
export class DevToolsMissingError extends Error {
  constructor(command: string, cause: unknown) {
    super(
      `\`remediator ${command}\` is a development tool (tools/), not part of this installation: run it from a checkout of remediator (npx tsx src/main.ts ${command})`,
      { cause },
    );
    this.name = this.constructor.name;
  }
}

/**
 * Loads tools/dev-tools.ts. The specifier is computed, so neither the type checker nor the build follows it into
 * tools/ (the runtime never depends on it); from src/cli and from dist/cli alike it names the checkout's tools/.
 */
export async function loadDevTools(command: string): Promise<DevTools> {
  const url = new URL('../../tools/dev-tools.js', import.meta.url);
  try {
    return ((await import(url.href)) as { devTools: DevTools }).devTools;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNKNOWN_FILE_EXTENSION') throw new DevToolsMissingError(command, error);
    throw error;
  }
}
