import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const token = 'webhook-token-0123456789';
const playbook = `
name: log-down
match: '{alertname="InstanceDown"}'
steps:
  - name: note
    action: log
    with: { message: 'down {{ labels.instance }}' }
`;

const downAlert = { labels: { alertname: 'InstanceDown', instance: 'db-1', cluster: 'db' } };

describe('POST /webhooks/alertmanager', () => {
  let redis: TestRedis;
  let app: TestService;
  before(async () => {
    redis = await startRedis();
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'log-down.yaml': playbook },
      settings: { webhookToken: token, bodyLimit: 64 * 1024 },
    });
  });
  after(async () => {
    await app.close();
    await redis.stop();
  });

  test('a valid webhook with a bearer token is accepted with 202 and its run is in Redis', async () => {
    const response = await postWebhook(app.url, webhookBody([downAlert]), token);
    assert.equal(response.status, 202);
    const body = response.body as { runs: { jobId: string }[] };
    assert.equal(body.runs.length, 1);
    const job = await app.service.queue.getJob(body.runs[0]?.jobId ?? '');
    assert.ok(job, 'the job is in Redis when 202 is answered');
  });

  test('basic auth whose password is the token is accepted, as Alertmanager basic_auth sends it', async () => {
    const basic = Buffer.from(`alertmanager:${token}`).toString('base64');
    const response = await postWebhook(app.url, webhookBody([downAlert]), undefined, { authorization: `Basic ${basic}` });
    assert.equal(response.status, 202);
  });

  test('a request without credentials gets 401 with a JSON error', async () => {
    const response = await postWebhook(app.url, webhookBody([downAlert]));
    assert.equal(response.status, 401);
    assert.equal((response.body as { error: { code: string } }).error.code, 'UNAUTHORIZED');
  });

  test('a wrong token gets 401, and so does a wrong basic password', async () => {
    assert.equal((await postWebhook(app.url, webhookBody([downAlert]), 'not-the-token')).status, 401);
    const basic = Buffer.from('alertmanager:nope').toString('base64');
    assert.equal((await postWebhook(app.url, webhookBody([downAlert]), undefined, { authorization: `Basic ${basic}` })).status, 401);
  });

  test('a body that is not an Alertmanager webhook gets 400 listing every reason with its path', async () => {
    const response = await postWebhook(app.url, { status: 'burning', alerts: [{ labels: { a: 1 } }] }, token);
    assert.equal(response.status, 400);
    const error = (response.body as { error: { code: string; details: { path: string }[] } }).error;
    assert.equal(error.code, 'INVALID_WEBHOOK');
    const paths = error.details.map((detail) => detail.path);
    for (const path of ['status', 'receiver', 'alerts.0.status', 'alerts.0.labels.a', 'alerts.0.startsAt'])
      assert.ok(paths.includes(path), `missing ${path} in ${paths.join(', ')}`);
  });

  test('a startsAt that is not a full RFC 3339 date-time, or is the zero time, gets 400; the zero endsAt of a firing alert is accepted', async () => {
    for (const startsAt of ['1', '2026-11-22', '0001-01-01T00:00:00Z']) {
      const response = await postWebhook(app.url, webhookBody([{ ...downAlert, startsAt }]), token);
      assert.equal(response.status, 400, startsAt);
      const details = (response.body as { error: { details: { path: string }[] } }).error.details;
      assert.deepEqual(
        details.map((detail) => detail.path),
        ['alerts.0.startsAt'],
        startsAt,
      );
    }
    const firing = await postWebhook(
      app.url,
      webhookBody([{ ...downAlert, startsAt: '2026-11-22T03:00:00.123456789Z', endsAt: '0001-01-01T00:00:00Z' }]),
      token,
    );
    assert.equal(firing.status, 202);
  });

  test('malformed JSON gets 400 with a JSON error body', async () => {
    const response = await postWebhook(app.url, '{"alerts": [', token);
    assert.equal(response.status, 400);
    assert.equal((response.body as { error: { code: string } }).error.code, 'INVALID_JSON');
  });

  test('unknown fields such as notification_reason are tolerated', async () => {
    const response = await postWebhook(app.url, webhookBody([downAlert], { notification_reason: 'repeat', somethingNew: { x: 1 } }), token);
    assert.equal(response.status, 202);
  });

  test('a body over the limit gets 413', async () => {
    const huge = webhookBody([{ ...downAlert, annotations: { description: 'x'.repeat(100 * 1024) } }]);
    const response = await postWebhook(app.url, huge, token);
    assert.equal(response.status, 413);
    assert.equal((response.body as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
  });

  test('a non-JSON content type gets 415', async () => {
    const response = await postWebhook(app.url, JSON.stringify(webhookBody([downAlert])), token, { 'content-type': 'text/plain' });
    assert.equal(response.status, 415);
    assert.equal((response.body as { error: { code: string } }).error.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('a notification Alertmanager truncated is accepted, the loss logged as a warning and counted in remediator_alerts_truncated_total', async () => {
    const truncated = async () => (await app.service.metrics.alertsTruncated.get()).values[0]?.value;
    const before = await truncated();
    assert.equal(typeof before, 'number', 'the counter is exported (at 0) before any truncation');
    const response = await postWebhook(app.url, webhookBody([downAlert], { truncatedAlerts: 3 }), token);
    assert.equal(response.status, 202);
    const warning = app.logs.find((line) => line.truncatedAlerts === 3);
    assert.equal(warning?.level, 'warn');
    assert.equal(await truncated(), (before ?? 0) + 3);
    assert.equal(
      (await postWebhook(app.url, webhookBody([{ ...downAlert, fingerprint: 'untruncated0001' }], { truncatedAlerts: 0 }), token)).status,
      202,
    );
    assert.equal(await truncated(), (before ?? 0) + 3, 'a whole notification adds nothing');
  });

  test('alerts no playbook matches are accepted with no runs', async () => {
    const response = await postWebhook(app.url, webhookBody([{ labels: { alertname: 'DiskFull' } }]), token);
    assert.equal(response.status, 202);
    assert.deepEqual((response.body as { runs: unknown[] }).runs, []);
  });

  test('with Redis stopped the webhook answers 503 (never 4xx) and accepts again once Redis is back', async () => {
    await redis.pause();
    const body = webhookBody([{ ...downAlert, fingerprint: 'outage0000000001' }]);
    const during = await postWebhook(app.url, body, token);
    assert.equal(during.status, 503);
    assert.equal((during.body as { error: { code: string } }).error.code, 'REM_REDIS_UNAVAILABLE');
    const ready = await fetch(`${app.url}/readyz`);
    assert.equal(ready.status, 503);
    await redis.resume();
    const afterOutage = await waitFor(
      'the webhook to accept again',
      async () => {
        const response = await postWebhook(app.url, body, token);
        return response.status === 202 ? response : undefined;
      },
      20_000,
      200,
    );
    const jobId = (afterOutage.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    await waitFor('the redelivered run to complete', async () => (await app.service.queue.getJob(jobId))?.finishedOn, 10_000);
    assert.equal((await fetch(`${app.url}/readyz`)).status, 200);
  });

  test('an unknown route answers 404 with a JSON body', async () => {
    const response = await fetch(`${app.url}/nope`);
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  });
});
