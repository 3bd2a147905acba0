import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { createTargetLocks } from '../../src/state/target-lock.js';
import { runDataSchema } from '../../src/core/run-data.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

describe('per-target leases', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  test('a second owner is refused while the first holds the lease, and gets it with a higher fencing token after release', async () => {
    const locks = createTargetLocks(redis.client(), { prefix: `t-${randomUUID()}`, ttlMs: 10_000 });
    const first = await locks.acquire('cache', 'run-1');
    assert.ok(first);
    assert.equal(await locks.acquire('cache', 'run-2'), undefined);
    assert.ok(await locks.acquire('other-target', 'run-2'), 'other targets are independent');
    await first.release();
    const second = await locks.acquire('cache', 'run-2');
    assert.ok(second);
    assert.ok(second.fencingToken > first.fencingToken);
    assert.equal(await first.isHeld(), false);
    assert.equal(await first.renew(), false, 'a released lease cannot be renewed');
    await first.release();
    assert.equal(await second.isHeld(), true, "releasing a stale lease does not free the new holder's");
  });

  test('the lease of a holder that died lapses after its ttl, and the same owner can take it back at once', async () => {
    const locks = createTargetLocks(redis.client(), { prefix: `t-${randomUUID()}`, ttlMs: 1000 });
    const crashed = await locks.acquire('db', 'run-1');
    assert.ok(crashed);
    assert.ok(await locks.acquire('db', 'run-1'), 'a recovered run (same id) takes its own lease again');
    assert.equal(await locks.acquire('db', 'run-2'), undefined);
    const taken = await waitFor('the lease to lapse', () => locks.acquire('db', 'run-2'), 5000, 100);
    assert.ok(taken.fencingToken > crashed.fencingToken);
  });

  test('two alerts for one cluster at the same time run one after the other, never interleaved', async () => {
    const dir = await tempDir();
    const app = await startTestService({
      redisUrl: redis.url,
      settings: { concurrency: 4 },
      playbooks: {
        'serial.yaml': `
name: serial
match: '{alertname="InstanceDown"}'
target: '{{ labels.cluster }}'
steps:
  - name: first
    action: exec
    with: { command: [sh, -c, 'echo "start $1" >> "$2"; sleep 0.4; echo "end $1" >> "$2"', sh, '{{ labels.instance }}', '${join(dir.path, 'log')}'] }
  - name: second
    action: exec
    with: { command: [sh, -c, 'echo "start2 $1" >> "$2"; sleep 0.2; echo "end2 $1" >> "$2"', sh, '{{ labels.instance }}', '${join(dir.path, 'log')}'] }
`,
      },
    });
    try {
      const body = webhookBody([
        { labels: { alertname: 'InstanceDown', cluster: 'cache', instance: 'cache-a' } },
        { labels: { alertname: 'InstanceDown', cluster: 'cache', instance: 'cache-b' } },
      ]);
      const answer = await postWebhook(app.url, body);
      const ids = (answer.body as { runs: { jobId: string }[] }).runs.map((run) => run.jobId);
      assert.equal(ids.length, 2);
      await waitFor('both runs to complete', async () => (await app.service.queue.getJobCounts('completed')).completed === 2, 20_000);
      const spans = await Promise.all(
        ids.map(async (id) => {
          const data = runDataSchema.parse((await app.service.queue.getJob(id))?.data);
          return { start: Date.parse(data.steps[0]?.startedAt ?? ''), end: Date.parse(data.steps.at(-1)?.finishedAt ?? '') };
        }),
      );
      const [a, b] = spans.sort((x, y) => x.start - y.start);
      assert.ok(a && b);
      assert.ok(b.start >= a.end, `the second run started (${b.start}) after the first finished (${a.end})`);
      const lines = (await readFile(join(dir.path, 'log'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => line.split(' ')[1]);
      assert.deepEqual(lines.slice(0, 4), Array(4).fill(lines[0]), 'all four step lines of one run come before the other run');
    } finally {
      await app.close();
      await dir.remove();
    }
  });
});
