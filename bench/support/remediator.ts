import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRemediatorProcess, type RemediatorProcess } from '../../tools/harness/remediator-process.js';
import { tempDir } from '../../tools/harness/temp-dir.js';
import { productionNodeOptions } from './build.js';

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

/** `remediator serve` as a separate process of the bench, its output in a log file in its temp dir. */
export interface BenchRemediator extends RemediatorProcess {
  readonly queueName: string;
  /** Stops the process and removes its temp dir (logs included); safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts `node <entry> serve [args]` on a free port against `redisUrl`, with `playbooks`
 * (file name → YAML; default: the repository's remediations/) and `env` on top, and waits until /readyz answers.
 * `cpuProfDir` adds --cpu-prof.
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
}): Promise<BenchRemediator> {
  const dir = await tempDir('remediator-bench-');
  let remediationsDir = 'remediations';
  if (options.playbooks) {
    remediationsDir = join(dir.path, 'remediations');
    await mkdir(remediationsDir);
    for (const [name, text] of Object.entries(options.playbooks)) await writeFile(join(remediationsDir, name), text);
  }
  const child = await startRemediatorProcess(
    {
      REDIS_URL: options.redisUrl,
      QUEUE_NAME: options.queueName,
      REMEDIATIONS_DIR: remediationsDir,
      DATA_DIR: join(dir.path, 'data'),
      WEBHOOK_TOKEN: benchToken,
      NODE_OPTIONS: await productionNodeOptions(),
      ...options.env,
    },
    options.args ?? [],
    {
      command: {
        command: process.execPath,
        args: [...(options.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir]), ...options.entry],
      },
      logFile: join(dir.path, 'remediator.log'),
      readyPath: '/readyz',
      timeoutMs: 60_000,
    },
  ).catch(async (error: unknown) => {
    await dir.remove();
    throw error;
  });
  let closing: Promise<void> | undefined;
  return Object.assign(child, {
    queueName: options.queueName,
    close() {
      closing ??= (async () => {
        await child.stop(15_000);
        await dir.remove();
      })();
      return closing;
    },
  });
}
