// The dispatch and storm baseline: a bare BullMQ Worker whose processor only notes when it started.
// Run as its own process: REDIS_URL, QUEUE_NAME, CONCURRENCY in the environment; prints "ready" when running.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const worker = new Worker(
  process.env.QUEUE_NAME ?? 'baseline',
  // The same clock and resolution as a run's firstStartedAt (an ISO timestamp: milliseconds).
  () => Promise.resolve({ startedAt: Date.now() }),
  { connection, concurrency: Number(process.env.CONCURRENCY ?? '8'), removeOnComplete: { count: 100_000 } },
);
void worker.waitUntilReady().then(() => {
  process.stdout.write('ready\n');
});
process.once('SIGTERM', () => {
  void worker.close().finally(() => {
    connection.disconnect();
    process.exit(0);
  });
});
