import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { productionNodeOptions } from './build.js';
import { startBenchProcess, waitFor, type BenchProcess } from './processes.js';

/** The webhook credential every benchmark uses (WEBHOOK_TOKEN is set, as in production). */
export const benchToken = 'bench-webhook-token-0123456789abcdef';

/** A playbook with one `log` step on a per-instance target: the cheapest real run (dispatch and storm). */
export const logPlaybook = `
name: bench-log
description: Record the alert (one log step), so a run measures remediator, not an action.
match: '{alertname="InstanceDown"}'
on: firing
target: '{{ labels.cluster }}/{{ labels.instance }}'
steps:
  - name: record
    action: log
    with:
      level: info
      message: 'InstanceDown: {{ labels.instance }} ({{ labels.role }}) in {{ labels.cluster }}'
`;

/** `remediator serve` as a separate process. */
export interface RemediatorProcess extends BenchProcess {
  readonly url: string;
  readonly queueName: string;
  /** Stops the process and removes its temp dir (logs included). */
  close(): Promise<void>;
}

/**
 * Starts `node <entry> serve [args]` on a free port against `redisUrl`, with `playbooks`
 * (file name → YAML; default: the repository's remediations/) and `env` on top. `cpuProfDir` adds --cpu-prof.
 */
export async function startRemediator(options: {
  redisUrl: string;
  args?: string[];
  playbooks?: Record<string, string>;
  env?: Record<string, string>;
  cpuProfDir?: string;
  queueName: string;
  /** node's arguments that start remediator (bench/support/build.ts). */
  entry: readonly string[];
}): Promise<RemediatorProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'remediator-bench-'));
  let remediationsDir = 'remediations';
  if (options.playbooks) {
    remediationsDir = join(dir, 'remediations');
    await mkdir(remediationsDir);
    for (const [name, text] of Object.entries(options.playbooks)) await writeFile(join(remediationsDir, name), text);
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = startBenchProcess('remediator', process.execPath, [
    ...(options.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir]),
    ...options.entry,
    'serve', ...(options.args ?? []),
  ], {
    logFile: join(dir, 'remediator.log'),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: options.redisUrl,
      QUEUE_NAME: options.queueName,
      REMEDIATIONS_DIR: remediationsDir,
      DATA_DIR: join(dir, 'data'),
      WEBHOOK_TOKEN: benchToken,
      LOG_LEVEL: 'info',
      NODE_OPTIONS: await productionNodeOptions(),
      ...options.env,
    },
  });
  await waitFor('remediator /readyz', async () => (await fetch(`${url}/readyz`)).ok, { timeoutMs: 60_000, intervalMs: 100, process: child });
  let closing: Promise<void> | undefined;
  return Object.assign(child, {
    url,
    queueName: options.queueName,
    close() {
      closing ??= (async () => {
        await child.stop(15_000);
        await rm(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  });
}
