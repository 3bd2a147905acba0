import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { splitAddress } from '../../src/inventory/inventory.js';
import { lines } from '../helpers/lines.js';
import { appendInstancePlaybook } from '../helpers/playbook-fixtures.js';
import { startSentinels, type TestSentinels } from '../helpers/redis-sentinel.js';
import { startRemediatorProcess, type RemediatorProcess } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { waitForIdleQueue } from '../helpers/queue-idle.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const token = 'sentinel-ha-token';
const masterName = 'remediator-ha'; // not the usual 'mymaster': proves REDIS_SENTINEL_NAME is what is used
const dataPassword = 'data-node-pass-5150';
const sentinelPassword = 'sentinel-pass-6160';

/** The statuses of every try and the final answer, as Alertmanager would see them. */
interface Delivery {
  statuses: number[];
  body: unknown;
}

/**
 * POSTs until the answer is 2xx, backing off like Alertmanager's webhook notifier (about 0.5 s × 1.5ⁿ, here from
 * 200 ms and at most 2 s, without jitter); a connection error counts as status 0.
 */
async function deliver(url: string, body: unknown, timeoutMs = 30_000): Promise<Delivery> {
  const statuses: number[] = [];
  const deadline = Date.now() + timeoutMs;
  for (let wait = 200; ; wait = Math.min(wait * 1.5, 2000)) {
    const answer = await postWebhook(url, body, token).catch(() => ({ status: 0, body: undefined }));
    statuses.push(answer.status);
    if (answer.status >= 200 && answer.status < 300) return { statuses, body: answer.body };
    if (Date.now() > deadline) assert.fail(`no 2xx from ${url} within ${timeoutMs} ms: ${statuses.join(',')}`);
    await delay(wait); // the sender's backoff being imitated, not a wait for an event
  }
}

/** The job ids an answer lists (none for a redelivery of a body already accepted). */
const jobIdsOf = (body: unknown) => (body as { runs?: { jobId: string }[] }).runs?.map((run) => run.jobId) ?? [];

describe('two remediator replicas on Redis Sentinel (their own Redis fails over)', () => {
  let trio: TestSentinels;
  let replicas: RemediatorProcess[] = [];
  let dir: { path: string; remove: () => Promise<void> };
  let playbooks: { dir: string; remove: () => Promise<void> };
  let observer: Redis | undefined;
  const queueName = `sentinel-ha-${randomUUID()}`;
  const effects = () => lines(join(dir.path, 'effects'));

  before(async () => {
    dir = await tempDir('remediator-sentinel-ha-');
    // A primary, one replica and three sentinels, with passwords on both: the smallest set that can fail over.
    trio = await startSentinels({ replicas: 1, masterName, password: dataPassword, sentinelPassword, downAfterMs: 1000 });
    playbooks = await writePlaybooks({ 'act.yaml': appendInstancePlaybook(join(dir.path, 'effects')) });
    await writeFile(join(dir.path, 'redis-password'), `${dataPassword}\n`);
    const common = {
      REDIS_SENTINELS: trio.sentinels.join(','),
      REDIS_SENTINEL_NAME: masterName,
      REDIS_SENTINEL_PASSWORD: sentinelPassword,
      QUEUE_NAME: queueName,
      REMEDIATIONS_DIR: playbooks.dir,
      WEBHOOK_TOKEN: token,
    };
    // One replica reads the data password from a file, the other from the variable: both ways reach Redis.
    replicas = await Promise.all([
      startRemediatorProcess({ ...common, REDIS_PASSWORD: dataPassword, DATA_DIR: join(dir.path, 'data-a') }),
      startRemediatorProcess({ ...common, REDIS_PASSWORD_FILE: join(dir.path, 'redis-password'), DATA_DIR: join(dir.path, 'data-b') }),
    ]);
    await Promise.all(
      replicas.map((replica) => waitFor(`${replica.url} ready`, async () => (await fetch(`${replica.url}/readyz`)).ok, 15_000, 100)),
    );
  });

  after(async () => {
    observer?.disconnect();
    await Promise.all(replicas.map((replica) => replica.stop()));
    await trio.stop();
    await playbooks.remove();
    await dir.remove();
  });

  /** A client that finds the primary through the sentinels, as remediator does. */
  const sentinelClient = () => {
    observer ??= new Redis({
      sentinels: trio.sentinels.map((address) => splitAddress(address)),
      name: masterName,
      password: dataPassword,
      sentinelPassword,
      maxRetriesPerRequest: null,
    });
    observer.on('error', () => undefined);
    return observer;
  };

  test('no replica starts an embedded Redis, and neither logs a password', async () => {
    for (const [index, replica] of replicas.entries()) {
      await assert.rejects(access(join(dir.path, index === 0 ? 'data-a' : 'data-b', 'redis')), 'no embedded Redis data directory');
      assert.doesNotMatch(replica.output(), /embedded Redis started/);
      assert.ok(!replica.output().includes(dataPassword) && !replica.output().includes(sentinelPassword), 'no password in the log');
    }
  });

  test('the same alert posted to both replicas runs once; after the primary crashes, a new alert is accepted and runs once on the new primary', async (t) => {
    const queue = new Queue(queueName, { connection: sentinelClient() });
    t.after(() => queue.close());
    const first = webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-1' }, fingerprint: 'a1a1a1a1a1a1a1a1' }]);
    const answers = await Promise.all(
      replicas.flatMap((replica) => Array.from({ length: 5 }, () => postWebhook(replica.url, first, token))),
    );
    assert.deepEqual([...new Set(answers.map((answer) => answer.status))], [202]);
    assert.equal(new Set(answers.flatMap((answer) => jobIdsOf(answer.body))).size, 1, 'both replicas computed the same job id');
    await waitFor('the first run', async () => (await effects()).length > 0, 20_000);
    // Every post was answered 202, so every job is queued: a duplicate run has ended once none is left.
    await waitForIdleQueue(queue);
    assert.deepEqual(await effects(), ['db-1'], 'one side effect for ten deliveries to two replicas');

    // Crash the primary: its sentinels call it down after 1 s and promote the replica.
    const oldPrimary = await trio.settled(1);
    const crashedAt = Date.now();
    await trio.crash(oldPrimary);

    const second = webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-2' }, fingerprint: 'b2b2b2b2b2b2b2b2' }]);
    const [viaA, viaB] = await Promise.all(replicas.map((replica) => deliver(replica.url, second)));
    assert.ok(viaA && viaB);
    const acceptedAfterMs = Date.now() - crashedAt;
    const [jobId, ...others] = new Set([...jobIdsOf(viaA.body), ...jobIdsOf(viaB.body)]);
    assert.ok(jobId !== undefined && others.length === 0, 'both replicas accepted the same run');

    await waitFor('the run after the failover', async () => (await effects()).length > 1, 30_000, 50);
    const ranAfterMs = Date.now() - crashedAt;
    await waitForIdleQueue(queue); // both deliveries were answered 2xx: a second run has ended once none is left
    assert.deepEqual(await effects(), ['db-1', 'db-2'], 'the new alert ran exactly once');

    // The run lives on the server the sentinels now name as primary, and that server says it is a primary.
    const newPrimary = await trio.settled(0);
    assert.notEqual(newPrimary, oldPrimary);
    const direct = trio.client(newPrimary);
    assert.equal(((await direct.call('ROLE')) as unknown[])[0], 'master');
    assert.ok(await direct.hget(`bull:${queueName}:${jobId}`, 'finishedOn'), `job ${jobId} finished on ${newPrimary}`);
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    assert.deepEqual(counts, { waiting: 0, active: 0, delayed: 0, failed: 0 });
    assert.equal((await queue.getJob(jobId))?.finishedOn !== undefined, true);
    t.diagnostic(`statuses while failing over: A ${viaA.statuses.join(',')} | B ${viaB.statuses.join(',')}`);
    t.diagnostic(`accepted ${acceptedAfterMs} ms after the crash; ran ${ranAfterMs} ms after it; ${oldPrimary} → ${newPrimary}`);
    for (const replica of replicas) assert.ok(!replica.output().includes(dataPassword), 'no password in the log after the failover either');
  });
});
