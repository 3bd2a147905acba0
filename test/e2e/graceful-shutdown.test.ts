import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { runDataSchema } from '../../src/core/run-data.js';
import { linesFor } from '../helpers/lines.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startRemediatorProcess, type RemediatorProcess } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

/** SIGTERM to the remediator process alone, as `docker stop` or systemd's KillMode=mixed deliver it. */
function terminate(process_: RemediatorProcess): void {
  assert.ok(process_.child.pid);
  process.kill(process_.child.pid, 'SIGTERM');
}

/** The log messages of a process, in order. */
function messages(process_: RemediatorProcess): string[] {
  return process_
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        return [(JSON.parse(line) as { msg: string }).msg];
      } catch {
        return [];
      }
    });
}

describe('graceful shutdown: stop accepting, finish or hand back running steps, close', () => {
  let redis: TestRedis;
  let dir: { path: string; remove: () => Promise<void> };
  let playbooks: { dir: string; remove: () => Promise<void> };
  const running: RemediatorProcess[] = [];
  const env = (queueName: string, extra: Record<string, string> = {}) => ({
    REDIS_URL: redis.url,
    QUEUE_NAME: queueName,
    REMEDIATIONS_DIR: playbooks.dir,
    WORKER_LOCK_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    ...extra,
  });
  const start = async (queueName: string, extra: Record<string, string> = {}) => {
    const started = await startRemediatorProcess(env(queueName, extra));
    running.push(started);
    return started;
  };

  before(async () => {
    [redis, dir] = await Promise.all([startRedis(), tempDir()]);
    const log = join(dir.path, 'effects');
    playbooks = await writePlaybooks({
      'slow.yaml': `
name: slow
match: '{alertname="Slow"}'
target: '{{ labels.instance }}'
steps:
  - { name: work, action: exec, timeout: 60s, with: { command: [sh, -c, 'echo "$1 started" >> "$3"; until [ -e "$2" ]; do sleep 0.05; done; echo "$1 finished" >> "$3"', sh, '{{ labels.instance }}', '{{ labels.gate }}', '${log}'] } }
  - { name: after, action: exec, with: { command: [sh, -c, 'echo "$1 after" >> "$2"', sh, '{{ labels.instance }}', '${log}'] } }
`,
    });
  });

  after(async () => {
    await Promise.all(running.map((process_) => process_.stop()));
    await Promise.all([playbooks.remove(), dir.remove(), redis.stop()]);
  });

  const effects = (instance: string) => linesFor(join(dir.path, 'effects'), instance);

  test('a run in progress finishes within the drain period while new requests are refused, then the process exits 0', async () => {
    const queueName = `drain-${randomUUID()}`;
    const server = await start(queueName);
    const answer = await postWebhook(
      server.url,
      webhookBody([{ labels: { alertname: 'Slow', instance: 'a', gate: join(dir.path, 'gate-a') } }]),
    );
    const jobId = (answer.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    await waitFor('the step to start', async () => (await effects('a')).includes('started'), 20_000, 20);
    terminate(server);
    await waitFor(
      'new connections to be refused',
      async () => {
        try {
          await fetch(`${server.url}/healthz`);
          return false;
        } catch {
          return true;
        }
      },
      5000,
      20,
    );
    assert.deepEqual(await effects('a'), ['started'], 'refused while the step still runs');
    await writeFile(join(dir.path, 'gate-a'), '');
    const { code } = await server.exited;
    assert.equal(code, 0, server.output().slice(-2000));
    assert.deepEqual(await effects('a'), ['started', 'finished', 'after'], 'the run finished, every step once');
    const runs = new Queue(queueName, { connection: redis.client() });
    try {
      assert.equal(await (await runs.getJob(jobId))?.getState(), 'completed');
    } finally {
      await runs.close();
    }
    const order = messages(server).filter((message) => /shutting down|stopped accepting|worker closed|^stopped$/.test(message));
    assert.deepEqual(
      order.map((message) => message.split(':')[0]),
      ['shutting down', 'stopped accepting HTTP requests', 'worker closed', 'stopped'],
    );
  });

  test('a step still running when the drain period ends is interrupted and handed back, and another replica completes the run', async () => {
    const queueName = `handback-${randomUUID()}`;
    const server = await start(queueName, { SHUTDOWN_TIMEOUT: '1s' });
    const answer = await postWebhook(
      server.url,
      webhookBody([{ labels: { alertname: 'Slow', instance: 'b', gate: join(dir.path, 'gate-b') } }]),
    );
    const jobId = (answer.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    await waitFor('the step to start', async () => (await effects('b')).includes('started'), 20_000, 20);
    const stoppedAt = Date.now();
    terminate(server);
    const { code } = await server.exited;
    const seconds = (Date.now() - stoppedAt) / 1000;
    assert.equal(code, 0, server.output().slice(-2000));
    assert.ok(seconds < 8, `exited ${seconds.toFixed(1)} s after SIGTERM, without waiting for the step`);
    assert.ok(messages(server).some((message) => message.startsWith('runs still active after the drain period')));
    const runs = new Queue(queueName, { connection: redis.client() });
    try {
      const job = await runs.getJob(jobId);
      assert.ok(job);
      assert.ok(['waiting', 'delayed'].includes(await job.getState()), 'handed back at once, not left active for the stalled check');
      const data = runDataSchema.parse(job.data);
      assert.equal(data.steps[0]?.status, 'failed');
      assert.match(data.steps[0].error?.message ?? '', /shutting down/);
      assert.equal(job.attemptsMade, 0, 'the hand-back did not spend an attempt');

      // The successor runs the interrupted step again; this time it may finish.
      await writeFile(join(dir.path, 'gate-b'), '');
      await start(queueName);
      await waitFor(
        'the handed-back run to complete',
        async () => (await (await runs.getJob(jobId))?.getState()) === 'completed',
        60_000,
        200,
      );
      const done = runDataSchema.parse((await runs.getJob(jobId))?.data);
      assert.deepEqual(
        done.steps.map((step) => [step.name, step.status, step.attempts]),
        [
          ['work', 'succeeded', 2],
          ['after', 'succeeded', 1],
        ],
      );
      assert.deepEqual(await effects('b'), ['started', 'started', 'finished', 'after'], 'interrupted once, then run to completion once');
    } finally {
      await runs.close();
    }
  });
});
