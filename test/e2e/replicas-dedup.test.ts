import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { appendInstancePlaybook } from '../helpers/playbook-fixtures.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startRemediatorProcess, type RemediatorProcess } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { waitForIdleQueue } from '../helpers/queue-idle.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

describe('three remediator processes sharing one Redis', () => {
  let redis: TestRedis;
  let replicas: RemediatorProcess[] = [];
  let dir: { path: string; remove: () => Promise<void> };
  let playbooks: { dir: string; remove: () => Promise<void> };
  const queueName = `replicas-${randomUUID()}`;

  before(async () => {
    redis = await startRedis();
    dir = await tempDir();
    playbooks = await writePlaybooks({ 'act.yaml': appendInstancePlaybook(join(dir.path, 'effects')) });
    const env = { REDIS_URL: redis.url, QUEUE_NAME: queueName, REMEDIATIONS_DIR: playbooks.dir, WEBHOOK_TOKEN: 'replica-token' };
    replicas = await Promise.all([0, 1, 2].map(() => startRemediatorProcess(env)));
  });

  after(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await playbooks.remove();
    await dir.remove();
    await redis.stop();
  });

  test('the same payload posted 10 times to each of 3 replicas yields one run and one side effect', async () => {
    const body = webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-1' }, fingerprint: 'f00dfeedf00dfeed' }]);
    const posts = replicas.flatMap((replica) => Array.from({ length: 10 }, () => postWebhook(replica.url, body, 'replica-token')));
    const answers = await Promise.all(posts);
    assert.deepEqual([...new Set(answers.map((answer) => answer.status))], [202]);
    // A verbatim redelivery of a body already accepted is answered { redelivered: true } without its runs.
    const jobIds = new Set(
      answers.flatMap((answer) => (answer.body as { runs?: { jobId: string }[] }).runs?.map((run) => run.jobId) ?? []),
    );
    const redelivered = answers.filter((answer) => (answer.body as { redelivered?: boolean }).redelivered === true).length;
    // Identical bytes racing each other included: Redis accepts a body once, every other copy is a redelivery.
    assert.equal(answers.length - redelivered, 1, `${redelivered} of ${answers.length} answers were redeliveries`);
    assert.equal(jobIds.size, 1, 'every replica computed the same job id');

    const queue = new Queue(queueName, { connection: redis.client() });
    try {
      await waitFor('the run to complete', async () => (await queue.getJobCounts('completed')).completed === 1, 20_000);
      // Every post was answered 202, so every job that will ever exist is queued: a duplicate has run once none is left.
      await waitForIdleQueue(queue);
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      assert.deepEqual(counts, { waiting: 0, active: 0, delayed: 0, completed: 1, failed: 0 });
      const effects = (await readFile(join(dir.path, 'effects'), 'utf8')).split('\n').filter(Boolean);
      assert.deepEqual(effects, ['db-1']);
    } finally {
      await queue.close();
    }
  });
});
