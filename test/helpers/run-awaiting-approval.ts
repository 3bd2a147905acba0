import type { Job } from 'bullmq';
import type { RunData } from '../../src/core/run-data.js';
import type { TestService } from './service.js';
import { waitFor } from './wait.js';

/** Waits until the run `jobId` waits for approval (pending, parked in the delayed set) and returns its job. */
export function runAwaitingApproval(app: TestService, jobId: string, timeoutMs = 20_000): Promise<Job<RunData>> {
  return waitFor(
    `run ${jobId} to wait for approval`,
    async () => {
      const job = (await app.service.queue.getJob(jobId)) as Job<RunData> | undefined;
      return job?.data.approval?.state === 'pending' && (await app.service.queue.getJobState(jobId)) === 'delayed' ? job : undefined;
    },
    timeoutMs,
  );
}
