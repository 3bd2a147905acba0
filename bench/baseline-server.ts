// The intake baseline: the least an Alertmanager webhook receiver on BullMQ can do. Express parses the JSON body,
// one queue.add stores it, and the answer is 202. No auth, no validation, no matching, no dedup.
// Run as its own process: REDIS_URL, PORT, QUEUE_NAME in the environment; prints "listening" when ready.
import express from 'express';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const port = Number(process.env.PORT ?? '0');
const connection = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
const queue = new Queue(process.env.QUEUE_NAME ?? 'baseline', { connection });

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.post('/webhooks/alertmanager', express.json({ limit: 5 * 1024 * 1024 }), async (req, res) => {
  await queue.add('alert', req.body as Record<string, unknown>);
  res.status(202).json({ status: 'accepted' });
});
const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write('listening\n');
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void queue.close().finally(() => {
    connection.disconnect();
    process.exit(0);
  });
});
