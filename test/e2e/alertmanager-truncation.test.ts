import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAlertmanager, type TestAlertmanager } from '../helpers/alertmanager.js';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../../src/util/free-port.js';

const token = 'am-truncation-token-7f3a';

const allJobs = (app: TestService) => app.service.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);

describe('a real Alertmanager whose webhook receiver has max_alerts', () => {
  let redis: TestRedis;
  let app: TestService;
  let am: TestAlertmanager;

  before(async () => {
    redis = await startRedis();
    app = await startTestService({
      redisUrl: redis.url,
      settings: { webhookToken: token },
      playbooks: { 'note-down.yaml': noteDownPlaybook },
    });
    am = await startAlertmanager({ webhookUrl: `${app.url}/webhooks/alertmanager`, token, groupBy: ['alertname'], maxAlerts: 2 });
  });

  after(async () => {
    await am.stop();
    await app.close();
    await redis.stop();
  });

  test('the alerts it leaves out of a notification are counted in remediator_alerts_truncated_total, and only the alerts sent get runs', async () => {
    const truncated = async () => (await app.service.metrics.alertsTruncated.get()).values[0]?.value ?? 0;
    assert.equal(await truncated(), 0);
    await am.postAlerts(
      Array.from({ length: 5 }, (_unused, index) => ({ labels: { alertname: 'InstanceDown', instance: `node-${index}` } })),
    );
    await waitFor(`Alertmanager's notification (its output: ${am.output()})`, async () => (await truncated()) > 0, 15_000, 100);
    assert.equal(await truncated(), 3, 'five alerts in the group, two sent');
    const jobs = await waitFor(
      'the runs of the alerts sent',
      async () => {
        const all = await allJobs(app);
        return all.length === 2 ? all : undefined;
      },
      10_000,
      100,
    );
    assert.equal(new Set(jobs.map((job) => job.data.alert.labels.instance)).size, 2);
    const warning = app.logs.find(
      (line) => line.msg === 'Alertmanager truncated this notification; raise or remove max_alerts on the webhook receiver',
    );
    assert.equal(warning?.truncatedAlerts, 3);
  });
});

describe('a real Alertmanager whose webhook receiver has max_alerts, with the reconcile loop reading it', () => {
  let redis: TestRedis;
  let app: TestService;
  let am: TestAlertmanager;

  before(async () => {
    redis = await startRedis();
    // Each names the other: remediator's port is chosen first.
    const port = await freePort();
    am = await startAlertmanager({
      webhookUrl: `http://127.0.0.1:${port}/webhooks/alertmanager`,
      token,
      groupBy: ['alertname'],
      maxAlerts: 2,
    });
    app = await startTestService({
      redisUrl: redis.url,
      settings: { webhookToken: token, port },
      playbooks: { 'note-down.yaml': noteDownPlaybook },
      reconcile: { intervalMs: 1000, leaseTtlMs: 3000, alertmanagerWarmupMs: 120_000, alertmanagers: [am.url] },
    });
  });

  after(async () => {
    await am.stop();
    await app.close();
    await redis.stop();
  });

  test('the alerts cut from the notification are counted and still get their runs, from the loop', async () => {
    const truncated = async () => (await app.service.metrics.alertsTruncated.get()).values[0]?.value ?? 0;
    await am.postAlerts(
      Array.from({ length: 5 }, (_unused, index) => ({ labels: { alertname: 'InstanceDown', instance: `node-${index}` } })),
    );
    await waitFor(`Alertmanager's notification (its output: ${am.output()})`, async () => (await truncated()) > 0, 15_000, 100);
    assert.equal(await truncated(), 3);
    const jobs = await waitFor(
      'a run for every alert',
      async () => {
        const all = await allJobs(app);
        return all.length >= 5 ? all : undefined;
      },
      10_000,
      100,
    );
    assert.equal(jobs.length, 5);
    assert.deepEqual(jobs.map((job) => job.data.alert.labels.instance).sort(), ['node-0', 'node-1', 'node-2', 'node-3', 'node-4']);
    const fromLoop = jobs.filter((job) => job.data.source === 'alertmanager').length;
    assert.ok(fromLoop >= 3, `${fromLoop} runs came from the loop: at least the three alerts no notification carried`);
    const recovered = (await app.service.metrics.reconcile.alertsRecovered.get()).values.find((value) => value.labels.status === 'firing');
    assert.equal(recovered?.value, fromLoop);
  });
});
