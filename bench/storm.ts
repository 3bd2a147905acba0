import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { runJobId } from '../src/alerts/job-id.js';
import { benchAlert, seededRandom, webhookBody, type WebhookAlertJson } from './support/alerts.js';
import { startBaselineWorker } from './support/baselines.js';
import { bounded } from './support/pace.js';
import { waitFor } from '../tools/harness/wait.js';
import { startRedis } from '../tools/harness/redis-server.js';
import { peakRssMbOf } from './support/process-stats.js';
import { logPlaybook, startRemediator } from './support/remediator.js';
import type { PartOptions } from './support/part.js';
import { median, round } from './support/stats.js';
import { postWebhook } from './support/webhook-client.js';

/** Storm figures: 5,000 distinct alerts, each delivered 10 times, until exactly 5,000 runs have finished. */
export interface StormFigures {
  /** First POST → the last of the 5,000 runs completed (median over rounds). */
  seconds: number;
  /** Peak resident set (VmHWM) of the remediator process (median over rounds). */
  peakRssMb: number;
  /** The same deliveries as bare addBulk calls to a bare Worker (no-op processor): seconds to drain. */
  baselineSeconds: number;
  /** seconds ÷ baselineSeconds. */
  ratio: number;
  /** First POST → the last 202. */
  acceptedSeconds: number;
  alerts: number;
  deliveriesPerAlert: number;
  webhookPosts: number;
  runs: number;
  rounds: number;
  workerConcurrency: number;
  perRound: { seconds: number; acceptedSeconds: number; peakRssMb: number; baselineSeconds: number }[];
}

const alertCount = 5000;
const alertsPerBody = 50;
const deliveries = 10;
const postConcurrency = 16;
const concurrency = 8; // WORKER_CONCURRENCY's default

/** The deliveries, shuffled (seeded): every body of 50 alerts appears `deliveries` times. */
function stormBodies(seed: number, firstId: number): { bodies: WebhookAlertJson[][]; order: number[] } {
  const alerts = Array.from({ length: alertCount }, (_, index) => benchAlert(firstId + index));
  const bodies = Array.from({ length: alertCount / alertsPerBody }, (_, index) =>
    alerts.slice(index * alertsPerBody, (index + 1) * alertsPerBody),
  );
  const order = bodies.flatMap((_, index) => Array.from({ length: deliveries }, () => index));
  const random = seededRandom(seed);
  for (let index = order.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [order[index], order[other]] = [order[other] ?? 0, order[index] ?? 0];
  }
  return { bodies, order };
}

/**
 * Each round: a fresh Redis and `remediator serve` (API and worker, one `log` step per run); 1,000 POSTs (100
 * bodies × 10 deliveries, 16 at a time); then exactly 5,000 completed runs are checked. The baseline replays the
 * same deliveries as addBulk calls with the same deterministic job ids onto a bare Worker.
 */
export async function benchStorm(options: PartOptions): Promise<StormFigures> {
  const rounds = options.quick ? 1 : 3;
  const perRound: StormFigures['perRound'] = [];
  for (let index = 0; index < rounds; index += 1) {
    const ours = await stormRound(index);
    const baselineSeconds = await baselineRound(index);
    perRound.push({ ...ours, baselineSeconds });
    options.log(
      `storm round ${index + 1}/${rounds}: ${alertCount} runs drained in ${ours.seconds} s (all 202 after ${ours.acceptedSeconds} s), peak RSS ${ours.peakRssMb} MB | bare BullMQ ${baselineSeconds} s`,
    );
  }
  const seconds = median(perRound.map((entry) => entry.seconds));
  const baselineSeconds = median(perRound.map((entry) => entry.baselineSeconds));
  return {
    seconds,
    peakRssMb: median(perRound.map((entry) => entry.peakRssMb)),
    baselineSeconds,
    ratio: round(seconds / baselineSeconds, 2),
    acceptedSeconds: median(perRound.map((entry) => entry.acceptedSeconds)),
    alerts: alertCount,
    deliveriesPerAlert: deliveries,
    webhookPosts: (alertCount / alertsPerBody) * deliveries,
    runs: alertCount,
    rounds,
    workerConcurrency: concurrency,
    perRound,
  };

  async function stormRound(index: number): Promise<{ seconds: number; acceptedSeconds: number; peakRssMb: number }> {
    const redis = await startRedis();
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const cleanup: (() => Promise<void>)[] = [
      async () => redis.stop(),
      () => {
        connection.disconnect();
        return Promise.resolve();
      },
    ];
    try {
      const remediator = await startRemediator({
        redisUrl: redis.url,
        queueName: 'storm',
        entry: options.entrypoints.remediator,
        playbooks: { 'bench-log.yaml': logPlaybook },
        env: { WORKER_CONCURRENCY: String(concurrency) },
      });
      cleanup.unshift(async () => remediator.close());
      const queue = new Queue('storm', { connection });
      cleanup.unshift(async () => queue.close());
      const { bodies, order } = stormBodies(100 + index, 2_000_000 + index * alertCount);
      const texts = bodies.map((body) => JSON.stringify(webhookBody(body)));
      const jobIds = new Set<string>();
      const started = performance.now();
      await bounded(
        order.map((bodyIndex) => async () => {
          for (const id of await postWebhook(remediator.url, texts[bodyIndex] ?? '')) jobIds.add(id);
        }),
        postConcurrency,
      );
      const acceptedSeconds = (performance.now() - started) / 1000;
      if (jobIds.size !== alertCount)
        throw new Error(`storm: the webhook answered ${jobIds.size} distinct job ids, expected ${alertCount}`);
      let last = { completed: 0, failed: 0 };
      await waitFor(
        'every storm run to finish',
        async () => {
          const counts = await queue.getJobCounts('completed', 'failed');
          last = { completed: counts.completed ?? 0, failed: counts.failed ?? 0 };
          return last.completed + last.failed >= alertCount;
        },
        { timeoutMs: 180_000, intervalMs: 25, processes: [remediator] },
      );
      const seconds = (performance.now() - started) / 1000;
      const peakRssMb = await peakRssMbOf(remediator.pid);
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
      const expected = { waiting: 0, active: 0, delayed: 0, prioritized: 0, completed: alertCount, failed: 0 };
      if (JSON.stringify(counts) !== JSON.stringify(expected))
        throw new Error(`storm: expected exactly ${alertCount} completed runs, got ${JSON.stringify(counts)}`);
      return { seconds: round(seconds), acceptedSeconds: round(acceptedSeconds), peakRssMb: round(peakRssMb, 1) };
    } finally {
      for (const step of cleanup) await step().catch(() => undefined);
    }
  }

  async function baselineRound(index: number): Promise<number> {
    const redis = await startRedis();
    const logDir = await mkdtemp(join(tmpdir(), 'remediator-bench-storm-'));
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
      const worker = await startBaselineWorker({
        redisUrl: redis.url,
        queueName: 'storm-baseline',
        concurrency,
        logDir,
        entry: options.entrypoints.baselineWorker,
      });
      cleanup.unshift(async () => worker.stop());
      const queue = new Queue('storm-baseline', { connection });
      cleanup.unshift(async () => queue.close());
      const { bodies, order } = stormBodies(100 + index, 2_000_000 + index * alertCount);
      const jobs = bodies.map((body) =>
        body.map((alert) => ({
          name: 'bare',
          data: { alert },
          opts: {
            jobId: runJobId({ playbook: 'bench-log', fingerprint: alert.fingerprint, startsAt: alert.startsAt, status: alert.status }),
          },
        })),
      );
      const started = performance.now();
      await bounded(
        order.map((bodyIndex) => async () => {
          await queue.addBulk(jobs[bodyIndex] ?? []);
        }),
        postConcurrency,
      );
      await waitFor('every bare storm job to finish', async () => ((await queue.getJobCounts('completed')).completed ?? 0) >= alertCount, {
        timeoutMs: 180_000,
        intervalMs: 25,
        processes: [worker],
      });
      return round((performance.now() - started) / 1000);
    } finally {
      for (const step of cleanup) await step().catch(() => undefined);
    }
  }
}
