import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Worker, type Job } from 'bullmq';
import { linesFor } from '../helpers/lines.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const admin = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };

describe('the kill switch: POST /api/pause and /api/resume', () => {
  let redis: TestRedis;
  let app: TestService;
  let dir: { path: string; remove: () => Promise<void> };
  let log: string;

  const effects = (runId: string) => linesFor(log, runId);
  const control = async (verb: 'pause' | 'resume', headers: Record<string, string> = admin) =>
    fetch(`${app.url}/api/${verb}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' } });
  const paused = async () => ((await (await fetch(`${app.url}/api/pause`, { headers: admin })).json()) as { paused: boolean }).paused;
  const readyz = async () => (await (await fetch(`${app.url}/readyz`)).json()) as { status: string; paused?: boolean };
  const metric = async () => /^remediator_paused (\d)$/m.exec(await (await fetch(`${app.url}/metrics`)).text())?.[1];
  async function trigger(): Promise<string> {
    const response = await postWebhook(
      app.url,
      webhookBody([{ labels: { alertname: 'Slow', instance: `n-${randomBytes(4).toString('hex')}` } }]),
    );
    assert.equal(response.status, 202, 'alerts are still accepted and queued while paused');
    return (response.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
  }
  const completed = (id: string) =>
    waitFor(`run ${id} to complete`, async () => (await app.service.queue.getJobState(id)) === 'completed', 20_000);
  /**
   * The run a worker asking for work now would be given: BullMQ's own fetch, done once by a worker that processes
   * nothing, instead of waiting for the service's worker to (not) take a run.
   */
  async function fetchedNow(): Promise<string | undefined> {
    const probe = new Worker(app.queueName, undefined, { connection: redis.client(), autorun: false });
    try {
      // Typed as always a Job, but undefined when there is none to give.
      const job = (await probe.getNextJob(randomUUID(), { block: false })) as Job | undefined;
      return job?.id;
    } finally {
      await probe.close();
    }
  }

  before(async () => {
    [redis, dir] = await Promise.all([startRedis(), tempDir()]);
    log = join(dir.path, 'effects');
    const append = (word: string, extra = '') => `[sh, -c, 'echo "$1 ${word}" >> "$2"${extra}', sh, '{{ run.id }}', '${log}']`;
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: {
        'slow.yaml': `
name: slow
match: '{alertname="Slow"}'
target: '{{ labels.instance }}'
steps:
  - { name: one, action: exec, with: { command: ${append('one', '; sleep 1.5')} } }
  - { name: two, action: exec, with: { command: ${append('two')} } }
`,
      },
      settings: { adminPassword: 'pw' },
    });
  });

  after(async () => {
    await app.close();
    await Promise.all([redis.stop(), dir.remove()]);
  });

  test('the switch needs admin credentials', async () => {
    assert.equal((await control('pause', {})).status, 401);
    assert.equal((await fetch(`${app.url}/api/pause`)).status, 401);
    assert.equal(await paused(), false, 'a refused pause changed nothing');
  });

  test('while paused, queued runs wait; /readyz stays ready and says paused, and remediator_paused is 1; resume runs them', async () => {
    const response = await control('pause');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { paused: true });
    assert.deepEqual({ status: (await readyz()).status, paused: (await readyz()).paused }, { status: 'ready', paused: true });
    assert.equal(await metric(), '1');
    const id = await trigger();
    assert.equal(await fetchedNow(), undefined, 'a worker asking for work is given nothing while paused');
    assert.equal(await app.service.queue.getJobState(id), 'waiting', "nor has the service's worker taken the run");
    assert.deepEqual(await effects(id), [], 'no step started while paused');
    assert.deepEqual(await (await control('resume')).json(), { paused: false });
    assert.equal(await metric(), '0');
    await completed(id);
    assert.deepEqual(await effects(id), ['one', 'two']);
  });

  test('pausing mid-run lets the running step finish, starts no further step, and resume continues where it stopped', async () => {
    const id = await trigger();
    await waitFor('step one to start', async () => (await effects(id)).includes('one'), 10_000);
    assert.equal((await control('pause')).status, 200);
    await waitFor('step one to finish', async () => (await app.service.queue.getJob(id))?.data.steps[0]?.status === 'succeeded', 10_000);
    // Step two starts, if at all, before the run leaves the worker: once it is parked, step two has not started.
    await waitFor('the run to give its worker slot back', async () => (await app.service.queue.getJobState(id)) !== 'active', 10_000);
    assert.deepEqual(await effects(id), ['one'], 'step two did not start while paused');
    assert.notEqual(await app.service.queue.getJobState(id), 'completed', 'the run is parked, not finished');
    assert.equal(await fetchedNow(), undefined, 'a worker asking for work is given nothing while paused');
    await control('resume');
    await completed(id);
    assert.deepEqual(await effects(id), ['one', 'two'], 'each step ran once');
  });

  test('with Redis down the switch and the approval API answer 503 with Retry-After (try again), never 500, and work once it is back', async () => {
    await redis.pause();
    try {
      for (const attempt of [
        () => control('pause'),
        () => fetch(`${app.url}/api/runs/some-run/approve`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' } }),
      ]) {
        const response = await attempt();
        assert.equal(response.status, 503);
        assert.equal(response.headers.get('retry-after'), '5');
        assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'REDIS_UNAVAILABLE');
      }
    } finally {
      await redis.resume();
    }
    await waitFor('the switch to answer again', async () => (await control('resume')).status === 200, 15_000, 200);
    assert.equal(await paused(), false);
  });

  test('pausing the queue in the queue UI is the same switch', async () => {
    const board = `${app.url}/queues/api/queues/${encodeURIComponent(app.queueName)}`;
    assert.equal((await fetch(`${board}/pause`, { method: 'PUT', headers: admin })).status, 200);
    assert.equal(await paused(), true);
    assert.equal((await readyz()).paused, true);
    const id = await trigger();
    assert.equal(await fetchedNow(), undefined, 'a worker asking for work is given nothing while paused');
    assert.equal(await app.service.queue.getJobState(id), 'waiting', "nor has the service's worker taken the run");
    assert.deepEqual(await effects(id), []);
    assert.equal((await fetch(`${board}/resume`, { method: 'PUT', headers: admin })).status, 200);
    assert.equal(await paused(), false);
    await completed(id);
  });
});
