import { MetricsTime, Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import type { Playbook } from '../core/playbook.js';
import type { RunData } from '../core/run-data.js';

/** The name every run job carries (the queue has one kind of job). */
export const runJobName = 'run';

/** Creates the queue runs are added to. */
export function createRemediationQueue(options: { name: string; connection: ConnectionOptions; prefix?: string }): Queue<RunData> {
  return new Queue<RunData>(options.name, {
    connection: options.connection,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
  });
}

/**
 * Job options for a run. Finished jobs are kept for `retentionMs`: the job id is the dedup key, so a redelivery
 * within that horizon finds the job and adds nothing.
 */
export function runJobOptions(playbook: Playbook, jobId: string, retentionMs: number): JobsOptions {
  const age = Math.ceil(retentionMs / 1000);
  return {
    jobId,
    attempts: playbook.retry.attempts,
    backoff: { type: 'exponential', delay: playbook.retry.backoffMs },
    removeOnComplete: { age },
    removeOnFail: { age },
  };
}

/** Worker settings that decide how fast a crashed worker's run is picked up again. */
export interface RunWorkerOptions {
  name: string;
  connection: ConnectionOptions;
  prefix?: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  autorun?: boolean;
}

/**
 * Creates the worker. A run whose worker died is found by the stalled-job check once its lock expires and is
 * moved back to wait; maxStalledCount is generous because a crash mid-run is exactly what checkpoints are for.
 */
export function createRunWorker<R>(
  processor: (job: Job<RunData>, token?: string, signal?: AbortSignal) => Promise<R>,
  options: RunWorkerOptions,
): Worker<RunData, R> {
  return new Worker<RunData, R>(options.name, processor, {
    connection: options.connection,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: 5,
    // Per-minute completed/failed counts, which BullMQ's own Prometheus metrics (bullmq_job_*_total) report.
    metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
    autorun: options.autorun ?? true,
  });
}
