import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import { describeSpawned } from '../../src/util/process-group.js';
import { runDataSchema, type RunData, type StepProcess, type StepRecord } from '../../src/core/run-data.js';
import { isRunning } from '../../src/util/process-status.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

/**
 * The step reports what it sees of a process as it starts: its state letter in /proc (Z: a zombie, dead but not
 * reaped yet) or "gone".
 */
const playbooks = {
  'promote.yaml': `
name: promote
match: '{alertname="Promote"}'
target: '{{ labels.instance }}'
steps:
  - name: promote
    action: exec
    with:
      command: [sh, -c, 'if [ -r /proc/$1/stat ]; then sed "s/.*) //" /proc/$1/stat | cut -d" " -f1; else echo gone; fi', sh, '{{ labels.watch }}']
`,
};

/** A process group as an exec step's program leaves it: a shell and its grandchild, in a group of their own. */
function startGroup(): { pid: number; recorded: StepProcess } {
  const child = spawn('sh', ['-c', 'sleep 300 & wait'], { stdio: 'ignore', detached: true });
  child.unref();
  const recorded = child.pid === undefined ? undefined : describeSpawned(child.pid, 500);
  assert.ok(recorded, 'spawned with /proc');
  return { pid: recorded.pid, recorded };
}

describe('a step whose earlier attempt recorded its process', () => {
  let redis: TestRedis;
  let app: TestService;
  const groups: number[] = [];

  before(async () => {
    redis = await startRedis();
    app = await startTestService({ redisUrl: redis.url, playbooks });
  });
  after(async () => {
    await app.close();
    await redis.stop();
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  /**
   * Queues a run while remediation is paused, records `process` as the running step of an earlier attempt (as a
   * worker killed mid-step leaves it), resumes, and returns the finished run's promote step.
   */
  async function resumeWith(process_: StepProcess, watchPid: number): Promise<StepRecord> {
    const queue = app.service.queue;
    await queue.pause();
    try {
      const answer = await postWebhook(
        app.url,
        webhookBody([{ labels: { alertname: 'Promote', instance: `db-${randomBytes(4).toString('hex')}`, watch: String(watchPid) } }]),
      );
      assert.equal(answer.status, 202);
      const jobId = (answer.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
      const job = await queue.getJob(jobId);
      assert.ok(job);
      const earlier: StepRecord = {
        name: 'promote',
        action: 'exec',
        status: 'running',
        attempts: 1,
        startedAt: new Date().toISOString(),
        process: process_,
      };
      await job.updateData({ ...job.data, steps: [earlier] });
    } finally {
      await queue.resume();
    }
    const finished = await waitFor(
      'the run to complete',
      async () => {
        const jobs = (await queue.getJobs(['completed', 'failed'])) as Job<RunData>[];
        return jobs.find((candidate) => candidate.data.alert.labels.watch === String(watchPid));
      },
      30_000,
      100,
    );
    assert.equal(await finished.getState(), 'completed', finished.failedReason);
    const [step] = runDataSchema.parse(finished.data).steps;
    assert.ok(step);
    return step;
  }

  test('on this host and boot, the earlier group (program and grandchild) is ended before the step starts again', async () => {
    const { pid, recorded } = startGroup();
    groups.push(pid);
    assert.ok(await isRunning(pid));
    const step = await resumeWith(recorded, pid);
    assert.equal(step.status, 'succeeded');
    assert.equal(step.attempts, 2);
    assert.match((step.output as { stdout: string }).stdout, /^(gone|Z)\n$/, 'the earlier program was gone when the step started');
    assert.equal(step.warnings, undefined);
    assert.ok(step.process && step.process.pid !== pid, 'the new attempt recorded its own process');
    await waitFor(
      'the grandchild to be gone too',
      () => {
        try {
          process.kill(-pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      5000,
    );
  });

  test('on another host nothing is signalled here: the step runs again and its record carries a warning', async () => {
    const { pid, recorded } = startGroup();
    groups.push(pid);
    const step = await resumeWith({ ...recorded, host: 'other-host.example' }, pid);
    assert.equal(step.status, 'succeeded');
    assert.deepEqual(step.warnings, [`attempt 1 ran this step on other-host.example (pid ${pid}); it may still be running there`]);
    assert.ok(await isRunning(pid), 'a local process with the same pid is not touched');
    assert.ok(app.logs.some((line) => typeof line.msg === 'string' && line.msg.includes('may still be running there')));
  });

  test('a recorded pid that now names another process (another start time, or another boot) is not signalled', async () => {
    const { pid, recorded } = startGroup();
    groups.push(pid);
    for (const other of [
      { ...recorded, startTime: String(Number(recorded.startTime) - 1) },
      { ...recorded, bootId: 'an-earlier-boot' },
    ]) {
      const step = await resumeWith(other, pid);
      assert.equal(step.status, 'succeeded');
      assert.equal(step.warnings, undefined);
      assert.ok(await isRunning(pid), 'the process that has the pid now keeps running');
    }
  });
});
