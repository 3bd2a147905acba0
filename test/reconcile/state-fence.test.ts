import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAlertmanager, type TestAlertmanager } from '../helpers/alertmanager.js';
import { replication } from '../helpers/redis-failover.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { primaryUnreachableLabels } from '../helpers/webhook.js';
import { waitFor } from '../helpers/wait.js';
import { failoverPlaybook, startCacheCluster, type CacheCluster } from './redis-cluster.js';

const intervalMs = 1000;
const adminAuth = `Basic ${Buffer.from('admin:fence-admin-pw').toString('base64')}`;

describe('the reconcile loop fencing by live roles, with Alertmanager stopped', () => {
  let cluster: CacheCluster;
  let am: TestAlertmanager;
  let app: TestService;

  before(async () => {
    cluster = await startCacheCluster();
    app = await startTestService({
      redisUrl: cluster.queue.url,
      playbooks: { 'redis-primary-failover.yaml': failoverPlaybook() },
      inventory: cluster.inventory,
      reconcile: { intervalMs, leaseTtlMs: 3000, alertmanagerWarmupMs: 120_000 },
      settings: { adminPassword: 'fence-admin-pw' },
    });
    am = await startAlertmanager({ webhookUrl: `${app.url}/webhooks/alertmanager` });
  });

  after(async () => {
    process.kill(am.process.pid, 'SIGCONT');
    await app.close();
    await am.stop();
    await cluster.stop();
  });

  test('an old primary that comes back writable while Alertmanager is stopped is fenced within two intervals, by a recorded run', async (t) => {
    const { a, b } = cluster;
    const jobs = () => app.service.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized']);
    // The failover, the ordinary way: the primary dies, Alertmanager notifies, a run promotes a replica.
    await a.crash();
    await am.postAlerts([{ labels: primaryUnreachableLabels('cache', 'cache-a') }]);
    const failover = await waitFor(
      'the failover run',
      async () => (await jobs()).find((job) => job.data.playbook === 'redis-primary-failover' && job.finishedOn !== undefined),
      { timeoutMs: 20_000 },
    );
    assert.equal(await failover.getState(), 'completed', JSON.stringify(failover.data.steps));
    assert.equal((await replication(b.client())).get('role'), 'master');
    const webhooks = async () => (await app.service.metrics.webhookRequests.get()).values.reduce((sum, value) => sum + value.value, 0);

    // No notification can arrive any more: Alertmanager is frozen.
    process.kill(am.process.pid, 'SIGSTOP');
    const webhooksBefore = await webhooks();
    // It boots as a primary of its own (its command line names no primary): the fence's output below says it was one.
    await a.resume();
    const writableAt = Date.now();
    const fence = await waitFor('the fence run', async () => (await jobs()).find((job) => job.data.playbook === 'remediator-fence-redis'), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    const enqueuedAfterMs = Date.parse(fence.data.receivedAt) - writableAt;
    t.diagnostic(`fence enqueued ${enqueuedAfterMs} ms after the old primary came back (interval ${intervalMs} ms)`);
    assert.ok(enqueuedAfterMs <= 2 * intervalMs, `fence enqueued ${enqueuedAfterMs} ms after the old primary came back`);
    assert.equal(fence.data.source, 'state');
    assert.equal(fence.data.alert.labels.instance, 'cache-a');
    assert.equal(fence.data.target, 'cache');
    const view = (await (
      await fetch(`${app.url}/api/runs/${encodeURIComponent(fence.id ?? '')}`, { headers: { authorization: adminAuth } })
    ).json()) as {
      source?: string;
      playbook: string;
    };
    assert.deepEqual([view.playbook, view.source], ['remediator-fence-redis', 'state'], 'the API shows where the run came from');
    await waitFor('the fence run to finish', async () => (await app.service.queue.getJob(fence.id ?? ''))?.finishedOn);
    const finished = await app.service.queue.getJob(fence.id ?? '');
    assert.equal(await finished?.getState(), 'completed', JSON.stringify(finished?.data.steps));
    const [step] = finished?.data.steps ?? [];
    assert.ok(step);
    assert.equal(step.status, 'succeeded');
    assert.deepEqual((step.output as { fenced?: string[] }).fenced, ['cache-a']);
    const info = await replication(a.client());
    assert.equal(info.get('role'), 'slave');
    assert.equal(info.get('master_port'), String(b.port), 'it follows the recorded primary');
    assert.equal(await webhooks(), webhooksBefore, 'no webhook was delivered');
    assert.equal((await app.service.metrics.reconcile.fences.get()).values.find((value) => value.labels.cluster === 'cache')?.value, 1);
  });
});
