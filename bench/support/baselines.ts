import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { startProcess, type HarnessProcess } from '../../tools/harness/process.js';
import { repoRoot } from '../../tools/harness/repo-root.js';
import { waitFor } from '../../tools/harness/wait.js';

const baseEnv = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' });

/** bench/baseline-server.ts (express + one queue.add + 202) as its own process. */
export async function startBaselineServer(options: {
  redisUrl: string;
  queueName: string;
  logDir: string;
  entry: readonly string[];
}): Promise<{ url: string; process: HarnessProcess }> {
  const port = await freePort();
  const child = startProcess(process.execPath, options.entry, {
    name: 'baseline-server',
    cwd: repoRoot,
    logFile: join(options.logDir, 'baseline-server.log'),
    env: { ...baseEnv(), REDIS_URL: options.redisUrl, PORT: String(port), QUEUE_NAME: options.queueName },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('baseline server /healthz', async () => (await fetch(`${url}/healthz`)).ok, {
    timeoutMs: 60_000,
    intervalMs: 100,
    processes: [child],
  });
  return { url, process: child };
}

/** bench/baseline-worker.ts (a bare BullMQ Worker) as its own process. */
export async function startBaselineWorker(options: {
  redisUrl: string;
  queueName: string;
  concurrency: number;
  logDir: string;
  entry: readonly string[];
}): Promise<HarnessProcess> {
  const logFile = join(options.logDir, `baseline-worker-${options.queueName}.log`);
  const child = startProcess(process.execPath, options.entry, {
    name: 'baseline-worker',
    cwd: repoRoot,
    logFile,
    env: { ...baseEnv(), REDIS_URL: options.redisUrl, QUEUE_NAME: options.queueName, CONCURRENCY: String(options.concurrency) },
  });
  await waitFor('baseline worker', async () => (await readFile(logFile, 'utf8')).includes('ready'), {
    timeoutMs: 60_000,
    intervalMs: 100,
    processes: [child],
  });
  return child;
}
