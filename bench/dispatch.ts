import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { RunData } from '../src/core/run-data.js';
import { benchAlert, webhookBody } from './support/alerts.js';
import { startBaselineWorker } from './support/baselines.js';
import { paced } from './support/pace.js';
import { waitFor } from '../tools/harness/wait.js';
import { startRedis } from '../tools/harness/redis-server.js';
import { logPlaybook, startRemediator } from './support/remediator.js';
import type { PartOptions } from './support/part.js';
import { median, round, summarize, type LatencySummary } from './support/stats.js';
import { postWebhook } from './support/webhook-client.js';

/** Dispatch figures: webhook received → first step started, against BullMQ's add → worker start. */
export interface DispatchFigures {
  /** Medians over rounds of each round's p50 / p99. */
  p50Ms: number;
  p99Ms: number;
  /** Over every run of every round. */
  pooled: LatencySummary;
  baseline: { p50Ms: number; p99Ms: number; pooled: LatencySummary };
  /** p99 ÷ the baseline's p99 (medians over rounds). */
  p99OverBaselineRatio: number;
  runs: number;
  rounds: number;
  ratePerSec: number;
  workerConcurrency: number;
  perRound: { remediator: LatencySummary; baseline: LatencySummary }[];
}

const concurrency = 8; // WORKER_CONCURRENCY's default, for remediator and the bare worker alike

/**
 * One alert per webhook at a steady rate (open loop) to `remediator serve` (API and worker in one process,
 * one `log` step), then each run's receivedAt → firstStartedAt from its job data. The baseline adds bare jobs to
 * a bare Worker (its own process) at the same rate and measures add → processor start.
 */
export async function benchDispatch(options: PartOptions): Promise<DispatchFigures> {
  const rounds = 3;
  const perRoundRuns = options.quick ? 350 : 1000;
  const ratePerSec = 100;
  const redis = await startRedis();
  const logDir = await mkdtemp(join(tmpdir(), 'remediator-bench-dispatch-'));
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const cleanup: (() => Promise<void>)[] = [
    async () => redis.stop(),
    async () => rm(logDir, { recursive: true, force: true }),
    () => {
      connection.disconnect();
      return Promise.resolve();
    },
  ];
  try {
    const remediator = await startRemediator({
      redisUrl: redis.url,
      queueName: 'dispatch',
      entry: options.entrypoints.remediator,
      playbooks: { 'bench-log.yaml': logPlaybook },
      env: { WORKER_CONCURRENCY: String(concurrency) },
    });
    cleanup.unshift(async () => remediator.close());
    const runQueue = new Queue<RunData>('dispatch', { connection });
    cleanup.unshift(async () => runQueue.close());
    const worker = await startBaselineWorker({
      redisUrl: redis.url,
      queueName: 'dispatch-baseline',
      concurrency,
      logDir,
      entry: options.entrypoints.baselineWorker,
    });
    cleanup.unshift(async () => worker.stop());
    const bareQueue = new Queue<{ addedAt: number }, { startedAt: number }>('dispatch-baseline', { connection });
    cleanup.unshift(async () => bareQueue.close());

    const completed = async (queue: Queue, expected: number, what: string) => {
      await waitFor(
        what,
        async () => {
          const counts = await queue.getJobCounts('completed', 'failed');
          if ((counts.failed ?? 0) > 0) throw new Error(`${what}: ${counts.failed ?? 0} failed`);
          return (counts.completed ?? 0) >= expected;
        },
        { timeoutMs: 120_000, intervalMs: 100 },
      );
    };

    const measureRemediator = async (roundIndex: number): Promise<number[]> => {
      const ids: string[] = [];
      const firstId = 1_000_000 + roundIndex * perRoundRuns;
      await paced(perRoundRuns, ratePerSec, async (index) => {
        ids.push(...(await postWebhook(remediator.url, JSON.stringify(webhookBody([benchAlert(firstId + index)])))));
      });
      if (ids.length !== perRoundRuns) throw new Error(`expected ${perRoundRuns} runs, the webhook answered ${ids.length}`);
      await completed(runQueue, (roundIndex + 1) * perRoundRuns, 'remediator runs to complete');
      const jobs = await Promise.all(ids.map((id) => runQueue.getJob(id)));
      return jobs.map((job) => {
        const data = job?.data;
        if (data?.firstStartedAt === undefined) throw new Error(`run ${job?.id ?? '?'} has no firstStartedAt`);
        return Date.parse(data.firstStartedAt) - Date.parse(data.receivedAt);
      });
    };
    const measureBaseline = async (roundIndex: number): Promise<number[]> => {
      const ids: string[] = [];
      await paced(perRoundRuns, ratePerSec, async () => {
        const job = await bareQueue.add('bare', { addedAt: Date.now() });
        ids.push(job.id ?? '');
      });
      await completed(bareQueue, (roundIndex + 1) * perRoundRuns, 'bare jobs to complete');
      const jobs = await Promise.all(ids.map((id) => bareQueue.getJob(id)));
      return jobs.map((job) => {
        if (!job?.returnvalue) throw new Error(`bare job ${job?.id ?? '?'} has no return value`);
        return job.returnvalue.startedAt - job.data.addedAt;
      });
    };

    // A short warm-up of each, not counted.
    options.log('dispatch: warm-up');
    await paced(50, ratePerSec, async (index) => {
      await postWebhook(remediator.url, JSON.stringify(webhookBody([benchAlert(900_000 + index)])));
    });
    await paced(50, ratePerSec, async () => {
      await bareQueue.add('bare', { addedAt: Date.now() });
    });
    await completed(runQueue, 50, 'warm-up runs');
    await completed(bareQueue, 50, 'warm-up bare jobs');
    await runQueue.clean(0, 1000, 'completed');
    await bareQueue.clean(0, 1000, 'completed');

    const perRound: DispatchFigures['perRound'] = [];
    const all = { remediator: [] as number[], baseline: [] as number[] };
    for (let index = 0; index < rounds; index += 1) {
      const ours = index % 2 === 0 ? await measureRemediator(index) : undefined;
      const theirs = await measureBaseline(index);
      const oursLate = ours ?? (await measureRemediator(index));
      all.remediator.push(...oursLate);
      all.baseline.push(...theirs);
      const entry = { remediator: roundSummary(oursLate), baseline: roundSummary(theirs) };
      perRound.push(entry);
      options.log(
        `dispatch round ${index + 1}/${rounds}: remediator p50 ${entry.remediator.p50Ms} ms p99 ${entry.remediator.p99Ms} ms | bare BullMQ p50 ${entry.baseline.p50Ms} ms p99 ${entry.baseline.p99Ms} ms (${perRoundRuns} runs each)`,
      );
    }
    const p99Ms = median(perRound.map((entry) => entry.remediator.p99Ms));
    const baselineP99 = median(perRound.map((entry) => entry.baseline.p99Ms));
    return {
      p50Ms: median(perRound.map((entry) => entry.remediator.p50Ms)),
      p99Ms,
      pooled: roundSummary(all.remediator),
      baseline: { p50Ms: median(perRound.map((entry) => entry.baseline.p50Ms)), p99Ms: baselineP99, pooled: roundSummary(all.baseline) },
      p99OverBaselineRatio: round(p99Ms / Math.max(1, baselineP99), 2),
      runs: all.remediator.length,
      rounds,
      ratePerSec,
      workerConcurrency: concurrency,
      perRound,
    };
  } finally {
    for (const step of cleanup)
      await step().catch((error: unknown) => {
        options.log(`dispatch cleanup: ${String(error)}`);
      });
  }
}

function roundSummary(latencies: readonly number[]): LatencySummary {
  const summary = summarize(latencies);
  return { count: summary.count, p50Ms: round(summary.p50Ms), p99Ms: round(summary.p99Ms), maxMs: round(summary.maxMs) };
}
