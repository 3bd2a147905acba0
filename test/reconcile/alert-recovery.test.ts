import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import type { RunData } from '../../src/core/run-data.js';
import { freePort } from '../../src/util/free-port.js';
import { startAlertmanager, type TestAlertmanager } from '../helpers/alertmanager.js';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';
import { waitFor } from '../helpers/wait.js';

const intervalMs = 1000;
/** tools/harness/alertmanager.ts routes with group_wait: 200ms. */
const groupWaitMs = 200;
const reconcile = { intervalMs, leaseTtlMs: 3000, alertmanagerWarmupMs: 0 };

/** Runs the failback of a lost resolution: the alert resolves and no notification about it ever arrives. */
const fenceOnResolvePlaybook = `
name: fail-back
match: '{alertname="PrimaryUnreachable"}'
target: '{{ labels.cluster }}'
steps:
  - name: note
    action: log
    with: { message: 'primary of {{ labels.cluster }} down' }
resolved:
  delay: 0s
  steps:
    - name: fence
      action: log
      with: { message: 'fence the returned primary of {{ labels.cluster }}' }
`;

const allJobs = (app: TestService) => app.service.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized']);
const recovered = async (app: TestService, status: 'firing' | 'resolved') =>
  (await app.service.metrics.reconcile.alertsRecovered.get()).values.find((value) => value.labels.status === status)?.value ?? 0;

describe('the reconcile loop against a real Alertmanager whose notifications are lost', () => {
  let redis: TestRedis;
  let am: TestAlertmanager;
  let worker: TestService;
  let api: TestService | undefined;
  let webhookPort: number;

  before(async () => {
    redis = await startRedis();
    // Nothing listens here until the test opens it: every notification fails, and Alertmanager keeps retrying.
    webhookPort = await freePort();
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${webhookPort}/webhooks/alertmanager` });
    worker = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'note-down.yaml': noteDownPlaybook, 'fail-back.yaml': fenceOnResolvePlaybook },
      settings: { api: false },
      reconcile: { ...reconcile, alertmanagers: [am.url] },
    });
  });

  after(async () => {
    await api?.close();
    await worker.close();
    await am.stop();
    await redis.stop();
  });

  test('a firing alert whose webhook never arrived is enqueued within two intervals, marked as recovered from Alertmanager', async (t) => {
    const postedAt = Date.now();
    await am.postAlerts([{ labels: { alertname: 'InstanceDown', instance: 'node-1' }, startsAt: new Date(postedAt).toISOString() }]);
    const job = await waitFor('the recovered run', async () => (await allJobs(worker)).find((item) => item.data.playbook === 'note-down'), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    assert.equal(job.data.source, 'alertmanager');
    assert.equal(job.data.alert.labels.instance, 'node-1');
    // Alertmanager tried (and failed) to notify after the harness's group_wait: that is the webhook that was lost.
    const enqueuedAfterMs = Date.parse(job.data.receivedAt) - (postedAt + groupWaitMs);
    t.diagnostic(`enqueued ${enqueuedAfterMs} ms after the lost notification (interval ${intervalMs} ms)`);
    assert.ok(enqueuedAfterMs <= 2 * intervalMs, `enqueued ${enqueuedAfterMs} ms after the lost notification`);
    await waitFor('the run to finish', async () => (await worker.service.queue.getJob(job.id ?? ''))?.finishedOn, { timeoutMs: 10_000 });
    assert.equal(await recovered(worker, 'firing'), 1);
  });

  test('an alert that resolved without any notification gets its failback from the loop, and only one', async () => {
    const startsAt = new Date().toISOString();
    const labels = { alertname: 'PrimaryUnreachable', cluster: 'cache' };
    await am.postAlerts([{ labels, startsAt }]);
    const firing = await waitFor('the recovered firing run', async () =>
      (await allJobs(worker)).find((item) => item.data.playbook === 'fail-back' && item.data.phase === 'remediate'),
    );
    await waitFor('the firing run to finish', async () => (await worker.service.queue.getJob(firing.id ?? ''))?.finishedOn);
    // Resolved in Alertmanager, which drops it from its list; it never notifies a resolution nobody heard fire.
    await am.postAlerts([{ labels, startsAt, endsAt: new Date().toISOString() }]);
    const failback = await waitFor(
      'the failback the loop enqueued',
      async () => (await allJobs(worker)).find((item) => item.data.playbook === 'fail-back' && item.data.phase === 'failback'),
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    assert.equal(failback.data.source, 'alertmanager');
    assert.equal(failback.data.alert.status, 'resolved');
    assert.equal(failback.data.alert.startsAt, firing.data.alert.startsAt);
    await waitFor('the failback to finish', async () => (await worker.service.queue.getJob(failback.id ?? ''))?.finishedOn);
    // A few more passes change nothing.
    const passes = async () => (await worker.service.metrics.reconcile.passes.get()).values.reduce((sum, value) => sum + value.value, 0);
    const seen = await passes();
    await waitFor('three more passes', async () => (await passes()) >= seen + 3, { timeoutMs: 10_000 });
    const failbacks = (await allJobs(worker)).filter((item) => item.data.playbook === 'fail-back' && item.data.phase === 'failback');
    assert.equal(failbacks.length, 1);
    assert.equal(await recovered(worker, 'resolved'), 1);
  });

  test('when the webhook arrives after all, it adds no second run', async () => {
    const accepted = async () =>
      (await api?.service.metrics.webhookRequests.get())?.values.find((value) => value.labels.outcome === 'accepted')?.value ?? 0;
    // A replica with the API on the port Alertmanager notifies: its next retry gets through.
    api = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'note-down.yaml': noteDownPlaybook, 'fail-back.yaml': fenceOnResolvePlaybook },
      settings: { queueName: worker.queueName, port: webhookPort, worker: false },
    });
    await waitFor(`Alertmanager's late notification (its output: ${am.output()})`, async () => (await accepted()) > 0, {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    const runs = (await allJobs(worker)).filter((item: Job<RunData>) => item.data.playbook === 'note-down');
    assert.equal(runs.length, 1, 'one run for the alert, whoever enqueued it first');
    const late = api.logs.find((line) => line.msg === 'webhook accepted');
    assert.ok(late, 'the notification was accepted, as a duplicate of the recovered run');
  });
});

describe('the reconcile loop and a fresh Alertmanager', () => {
  let redis: TestRedis;
  let am: TestAlertmanager;

  before(async () => {
    redis = await startRedis();
    am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${await freePort()}/webhooks/alertmanager` });
  });

  after(async () => {
    await am.stop();
    await redis.stop();
  });

  test('an Alertmanager up for less than the warm-up is not trusted to say that an alert resolved', async () => {
    // The firing came by webhook before this Alertmanager started (it restarted and lost its alerts).
    const app = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'fail-back.yaml': fenceOnResolvePlaybook },
      reconcile: { ...reconcile, intervalMs: 200, alertmanagerWarmupMs: 3_600_000, alertmanagers: [am.url] },
    });
    try {
      const startsAt = new Date().toISOString();
      const response = await postWebhook(
        app.url,
        webhookBody([{ labels: { alertname: 'PrimaryUnreachable', cluster: 'cache' }, startsAt }]),
      );
      assert.equal(response.status, 202);
      const passes = async () => (await app.service.metrics.reconcile.passes.get()).values.reduce((sum, value) => sum + value.value, 0);
      await waitFor('five passes', async () => (await passes()) >= 5, { timeoutMs: 10_000 });
      const phases = (await allJobs(app)).map((job) => job.data.phase);
      assert.deepEqual(phases, ['remediate'], 'no failback while Alertmanager may not know the alert yet');
    } finally {
      await app.close();
    }
  });
});
