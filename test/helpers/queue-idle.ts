import type { Queue } from 'bullmq';
import { waitFor } from './wait.js';

/**
 * Waits until no run of `queue` waits, runs or is delayed. Once every webhook that queues runs has been answered
 * (a 202 means its runs are in Redis), this is when every run that will ever exist has ended: the event a
 * "nothing else ran" check needs, instead of a pause long enough for a duplicate to show.
 */
export async function waitForIdleQueue(queue: Pick<Queue, 'name' | 'getJobCounts'>, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `queue ${queue.name} to be idle`,
    async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      return Object.values(counts).every((count) => count === 0);
    },
    timeoutMs,
    50,
  );
}
