import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/util/free-port.js';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';
import { waitFor } from '../helpers/wait.js';

describe('the reconcile loop when its Alertmanager is unreachable', () => {
  let redis: TestRedis;
  let app: TestService;
  let alertmanager: string;

  before(async () => {
    redis = await startRedis();
    // Credentials in the URL, as ALERTMANAGER_URL allows: they must show nowhere.
    alertmanager = `http://127.0.0.1:${await freePort()}`;
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'note-down.yaml': noteDownPlaybook },
      reconcile: {
        intervalMs: 200,
        leaseTtlMs: 1000,
        alertmanagerWarmupMs: 0,
        alertmanagers: [alertmanager.replace('//', '//remediator:am-secret-91c2@')],
      },
      secrets: ['am-secret-91c2'],
    });
  });

  after(async () => {
    await app.close();
    await redis.stop();
  });

  test('is reported in a metric, /readyz and one log line a minute, while the webhook path keeps working', async () => {
    const partial = async () =>
      (await app.service.metrics.reconcile.passes.get()).values.find((value) => value.labels.outcome === 'partial')?.value ?? 0;
    await waitFor('five passes that could not read Alertmanager', async () => (await partial()) >= 5, { timeoutMs: 10_000 });
    const up = (await app.service.metrics.reconcile.alertmanagerUp.get()).values;
    assert.deepEqual(
      up.map((value) => [value.labels.alertmanager, value.value]),
      [[alertmanager, 0]],
    );
    assert.equal((await app.service.metrics.reconcile.lastSuccess.get()).values[0]?.value ?? 0, 0, 'no pass read everything');

    const ready = await fetch(`${app.url}/readyz`);
    assert.equal(ready.status, 200, 'an unreachable Alertmanager does not take the webhook out of service');
    const body = (await ready.json()) as {
      reconcile: { leader: boolean; lastOutcome: string; alertmanagers: { name: string; ok: boolean; reason?: string }[] };
    };
    assert.equal(body.reconcile.leader, true);
    assert.equal(body.reconcile.lastOutcome, 'partial');
    const [reading] = body.reconcile.alertmanagers;
    assert.ok(reading, JSON.stringify(body));
    assert.equal(reading.name, alertmanager);
    assert.equal(reading.ok, false);
    assert.match(reading.reason ?? '', /unreachable/);

    const warnings = app.logs.filter((line) => line.msg === 'reconcile: Alertmanager unreachable; the webhook path still works');
    assert.equal(warnings.length, 1, 'rate-limited: one line a minute');
    assert.doesNotMatch(app.rawLogs(), /am-secret-91c2/);

    const accepted = await postWebhook(app.url, webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'node-1' } }]));
    assert.equal(accepted.status, 202);
    await waitFor('the run of the webhook', async () => (await app.service.queue.getCompleted()).length === 1);
  });
});
