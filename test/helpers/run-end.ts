import type { Job } from 'bullmq';
import type { RunData } from '../../src/core/run-data.js';
import type { TestService } from './service.js';
import { waitFor } from './wait.js';

/** Waits until the run `jobId` has ended (completed or failed) and returns its job. */
export function runEnded(app: TestService, jobId: string, timeoutMs = 20_000): Promise<Job<RunData>> {
  return waitFor(
    `run ${jobId} to end`,
    async () => {
      const state = await app.service.queue.getJobState(jobId);
      return state === 'completed' || state === 'failed' ? (app.service.queue.getJob(jobId) as Promise<Job<RunData>>) : undefined;
    },
    timeoutMs,
  );
}
