import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { runDataSchema } from '../../src/core/run-data.js';
import { isRunning } from '../../src/util/process-status.js';
import { lines } from '../helpers/lines.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startRemediatorProcess, type RemediatorProcess } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

/**
 * The step's program. Each attempt first writes down what it sees of the earlier attempts' processes (their state
 * letter from /proc, Z for a zombie, or "gone"), then leaves its start marker. The first attempt starts a
 * grandchild and waits on it forever, as a failover script waiting on a slow command would; later ones finish.
 */
const script = `
dir=$1
n=$(( $(cat "$dir/attempts" 2>/dev/null || echo 0) + 1 ))
echo $n > "$dir/attempts"
if [ -f "$dir/pids" ]; then
  for pid in $(cat "$dir/pids"); do
    if [ -r /proc/$pid/stat ]; then echo "$pid $(sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f1)"; else echo "$pid gone"; fi
  done > "$dir/seen-$n"
fi
if [ $n -eq 1 ]; then
  sleep 300 > /dev/null 2>&1 &
  echo "$$ $!" > "$dir/pids"
  echo "started $n" >> "$dir/markers"
  wait
fi
echo "started $n" >> "$dir/markers"
`;

describe('kill -9 of the service while an exec step runs', () => {
  let redis: TestRedis;
  let dir: { path: string; remove: () => Promise<void> };
  let playbooks: { dir: string; remove: () => Promise<void> };
  let env: Record<string, string>;
  const running: RemediatorProcess[] = [];
  const queueName = `orphan-${randomUUID()}`;
  const earlierPids = async () =>
    (await readFile(join(dir.path, 'pids'), 'utf8').catch(() => '')).trim().split(' ').filter(Boolean).map(Number);

  before(async () => {
    redis = await startRedis();
    dir = await tempDir();
    await writeFile(join(dir.path, 'failover.sh'), script);
    playbooks = await writePlaybooks({
      'failover.yaml': `
name: failover
match: '{alertname="InstanceDown"}'
steps:
  - name: promote
    action: exec
    timeout: 120s
    with: { command: [sh, '${join(dir.path, 'failover.sh')}', '${dir.path}'], killAfter: 1s }
`,
    });
    // A short lock so the new process finds the orphaned run within seconds.
    env = {
      REDIS_URL: redis.url,
      QUEUE_NAME: queueName,
      REMEDIATIONS_DIR: playbooks.dir,
      WORKER_LOCK_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    };
  });

  after(async () => {
    await Promise.all(running.map((process_) => process_.stop()));
    // Whatever the outcome, no sleep of the test outlives it.
    for (const pid of await earlierPids()) if (await isRunning(pid)) process.kill(pid, 'SIGKILL');
    await playbooks.remove();
    await dir.remove();
    await redis.stop();
  });

  test("the next process ends the step's program and its grandchild before starting the step again, and the run completes", async () => {
    const victim = await startRemediatorProcess(env);
    running.push(victim);
    const answer = await postWebhook(victim.url, webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-1' } }]));
    assert.equal(answer.status, 202);
    const jobId = (answer.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    await waitFor('the first attempt to start', async () => (await lines(join(dir.path, 'markers'))).includes('started 1'), 20_000, 20);
    const [shell = 0, grandchild = 0] = await earlierPids();

    // kill -9 of the service process alone: its step's program and the grandchild are not signalled.
    assert.ok(victim.child.pid);
    process.kill(victim.child.pid, 'SIGKILL');
    await victim.exited;
    assert.ok(await isRunning(shell), "the step's program outlived its service");
    assert.ok(await isRunning(grandchild), 'the grandchild outlived its service');

    const queue = new Queue(queueName, { connection: redis.client() });
    try {
      const successor = await startRemediatorProcess(env);
      running.push(successor);
      await waitFor('the run to complete', async () => (await (await queue.getJob(jobId))?.getState()) === 'completed', 60_000, 100);

      const seen = await lines(join(dir.path, 'seen-2'));
      assert.deepEqual(
        seen.map((line) => line.split(' ')[0]),
        [String(shell), String(grandchild)],
      );
      for (const line of seen)
        assert.match(line, / (gone|Z)$/, `when the second attempt started, the first attempt's process was still running: ${line}`);
      assert.equal(await isRunning(shell), false);
      assert.equal(await isRunning(grandchild), false);
      assert.deepEqual(await lines(join(dir.path, 'markers')), ['started 1', 'started 2']);

      const data = runDataSchema.parse((await queue.getJob(jobId))?.data);
      const [promote] = data.steps;
      assert.equal(promote?.status, 'succeeded');
      assert.equal(promote.attempts, 2);
      assert.match(successor.output(), /ended the processes an earlier attempt of this step left running/);
    } finally {
      await queue.close();
    }
  });
});
