import assert from 'node:assert/strict';
import { lines } from '../helpers/lines.js';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { runDataSchema } from '../../src/core/run-data.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startRemediatorProcess, type RemediatorProcess } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

describe('a worker killed with SIGKILL in the middle of a run', () => {
  let redis: TestRedis;
  let dir: { path: string; remove: () => Promise<void> };
  let playbooks: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  const running: RemediatorProcess[] = [];
  const queueName = `crash-${randomUUID()}`;

  before(async () => {
    redis = await startRedis();
    dir = await tempDir();
    const first = join(dir.path, 'first');
    const second = join(dir.path, 'second');
    playbooks = await writePlaybooks({
      'two-steps.yaml': `
name: two-steps
match: '{alertname="InstanceDown"}'
steps:
  - name: fence
    action: exec
    with: { command: [sh, -c, 'echo fenced >> "$1"', sh, '${first}'] }
  - name: promote
    action: exec
    timeout: 30s
    with: { command: [sh, -c, 'echo started >> "$1"; if [ "$(grep -c started "$1")" = 1 ]; then sleep 25; else sleep 2; fi; echo finished >> "$1"', sh, '${second}'] }
`,
    });
    // A short lock so the restarted worker finds the orphaned run within seconds, not the default 30 s.
    env = {
      REDIS_URL: redis.url,
      QUEUE_NAME: queueName,
      REMEDIATIONS_DIR: playbooks.dir,
      WORKER_LOCK_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    };
  });

  after(async () => {
    await Promise.all(running.map((process) => process.stop()));
    await playbooks.remove();
    await dir.remove();
    await redis.stop();
  });

  test('after a restart the first step is not repeated and the second completes', async () => {
    const first = join(dir.path, 'first');
    const second = join(dir.path, 'second');
    const victim = await startRemediatorProcess(env);
    running.push(victim);
    const answer = await postWebhook(victim.url, webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'pg-1' } }]));
    assert.equal(answer.status, 202);
    const jobId = (answer.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';

    await waitFor('the second step to start', async () => (await lines(second)).includes('started'), 20_000, 20);
    // SIGKILL to the process group: the worker dies mid-step. The step's program runs in a group of its own (its
    // first attempt sleeps long): the successor ends it before running the step again, so it never finishes.
    await victim.kill();
    assert.deepEqual(await lines(first), ['fenced']);
    assert.deepEqual(await lines(second), ['started'], 'the step was cut off before it finished');

    const queue = new Queue(queueName, { connection: redis.client() });
    try {
      const orphan = await queue.getJob(jobId);
      assert.equal(await orphan?.getState(), 'active', 'the killed worker still holds the run');

      const successor = await startRemediatorProcess(env);
      running.push(successor);
      await waitFor(
        'the recovered run to complete',
        async () => (await (await queue.getJob(jobId))?.getState()) === 'completed',
        30_000,
        100,
      );

      assert.deepEqual(await lines(first), ['fenced'], 'the checkpointed first step did not run again');
      assert.deepEqual(await lines(second), ['started', 'started', 'finished'], 'the interrupted step ran again to completion');
      const data = runDataSchema.parse((await queue.getJob(jobId))?.data);
      assert.deepEqual(
        data.steps.map((step) => [step.name, step.status, step.attempts]),
        [
          ['fence', 'succeeded', 1],
          ['promote', 'succeeded', 2],
        ],
      );
    } finally {
      await queue.close();
    }
  });
});
