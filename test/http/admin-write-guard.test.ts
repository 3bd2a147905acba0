import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { errorCodeOf, rawRequest, type RawAnswer } from '../helpers/raw-request.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const authorization = `Basic ${Buffer.from('admin:pw').toString('base64')}`;
const json = { 'content-type': 'application/json' };
const proxyOrigin = 'https://remediator.example';

const playbooks = { 'note-down.yaml': noteDownPlaybook };

describe('state-changing admin requests must come from remediator itself or from a client that is not a browser', () => {
  let redis: TestRedis;
  let app: TestService;
  let host = '';

  const post = (path: string, headers: Record<string, string> = {}, body?: string) =>
    rawRequest(`${app.url}${path}`, { method: 'POST', headers: { authorization, ...headers }, ...(body === undefined ? {} : { body }) });
  const paused = async () => await app.service.queue.isPaused();
  const refusedCount = async (reason: string) =>
    Number(
      new RegExp(`^remediator_admin_writes_refused_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(
        await app.service.metrics.registry.metrics(),
      )?.[1],
    );
  const assertError = (answer: RawAnswer, status: number, code: string, message: RegExp) => {
    assert.equal(answer.status, status, answer.text);
    assert.equal(errorCodeOf(answer), code);
    assert.match((answer.json as { error: { message: string } }).error.message, message);
  };

  before(async () => {
    redis = await startRedis();
    // No worker: the runs stay queued, and the pause flag is all that changes.
    app = await startTestService({
      redisUrl: redis.url,
      playbooks,
      settings: { adminPassword: 'pw', worker: false, adminAllowedOrigins: [proxyOrigin] },
    });
    host = new URL(app.url).host;
  });

  after(async () => {
    await app.close();
    await redis.stop();
  });

  test('curl -XPOST -H "content-type: application/json" with no body pauses and resumes: no Origin, no Sec-Fetch-Site', async () => {
    const pausedAnswer = await post('/api/pause', json);
    assert.equal(pausedAnswer.status, 200, pausedAnswer.text);
    assert.deepEqual(pausedAnswer.json, { paused: true });
    assert.deepEqual((await post('/api/resume', json)).json, { paused: false });
  });

  test('a state-changing /api call with no content type, text/plain, a form or multipart gets 415 saying to send JSON, and changes nothing', async () => {
    const before = await refusedCount('not_json');
    for (const type of [
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
    ]) {
      const answer = await post('/api/pause', type === undefined ? {} : { 'content-type': type }, type === undefined ? undefined : 'a=b');
      assertError(answer, 415, 'UNSUPPORTED_MEDIA_TYPE', /needs Content-Type: application\/json \(the body may be empty\)/);
    }
    const approve = await post('/api/runs/note-0123456789abcdef01234567/approve', { 'content-type': 'text/plain' }, '{"comment":"x"}');
    assertError(approve, 415, 'UNSUPPORTED_MEDIA_TYPE', /application\/json/);
    assert.equal(await paused(), false);
    assert.equal(await refusedCount('not_json'), before + 6, 'each refusal is counted');
  });

  test("an Origin other than the server's own gets 403 CROSS_SITE_REQUEST even with a JSON content type", async () => {
    const before = await refusedCount('cross_site');
    const port = Number(new URL(app.url).port);
    const foreign = [
      `http://127.0.0.2:${port}`,
      `http://127.0.0.1:${port + 1}`,
      'null',
      'https://evil.example',
      `http://${host}.evil.example`,
    ];
    for (const origin of foreign) {
      const answer = await post('/api/pause', { ...json, origin });
      assertError(answer, 403, 'CROSS_SITE_REQUEST', /refused a cross-site POST: Origin .* is not this server/);
    }
    assert.equal(await paused(), false);
    assert.equal(await refusedCount('cross_site'), before + foreign.length);
  });

  test('Sec-Fetch-Site same-site (another port of the same host) and cross-site get 403; same-origin and none (typed by the user) pass', async () => {
    for (const site of ['same-site', 'cross-site']) {
      assertError(
        await post('/api/pause', { ...json, 'sec-fetch-site': site }),
        403,
        'CROSS_SITE_REQUEST',
        new RegExp(`Sec-Fetch-Site is ${site}`),
      );
    }
    assert.equal(await paused(), false);
    for (const site of ['same-origin', 'none']) {
      assert.equal((await post('/api/pause', { ...json, 'sec-fetch-site': site, origin: `http://${host}` })).status, 200, site);
      assert.equal((await post('/api/resume', json)).status, 200);
    }
  });

  test("the server's own origin, taken from Host, passes; behind a proxy that rewrites Host, only an origin in ADMIN_ALLOWED_ORIGINS does", async () => {
    assert.equal((await post('/api/pause', { ...json, origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).status, 200);
    assert.equal((await post('/api/resume', json)).status, 200);
    const proxied = { ...json, host: 'remediator.internal:9095', 'sec-fetch-site': 'same-origin' };
    assert.equal((await post('/api/pause', { ...proxied, origin: proxyOrigin })).status, 200);
    assert.equal((await post('/api/resume', json)).status, 200);
    assertError(
      await post('/api/pause', { ...proxied, origin: 'https://other.example' }),
      403,
      'CROSS_SITE_REQUEST',
      /ADMIN_ALLOWED_ORIGINS/,
    );
    assert.equal(await paused(), false);
  });

  test("Bull Board's writes: its PUTs pass without a body, a cross-site PUT gets 403, and adding a job needs JSON", async () => {
    const board = `${app.url}/queues/api/queues/${encodeURIComponent(app.queueName)}`;
    assertError(
      await rawRequest(`${board}/pause`, { method: 'PUT', headers: { authorization, origin: 'http://127.0.0.2' } }),
      403,
      'CROSS_SITE_REQUEST',
      /PUT/,
    );
    assertError(
      await rawRequest(`${board}/pause`, { method: 'PUT', headers: { authorization, 'sec-fetch-site': 'same-site' } }),
      403,
      'CROSS_SITE_REQUEST',
      /same-site/,
    );
    assert.equal(await paused(), false);
    assert.equal(
      (await rawRequest(`${board}/pause`, { method: 'PUT', headers: { authorization } })).status,
      200,
      "the UI's own PUT, with no body",
    );
    assert.equal(await paused(), true);
    assert.equal(
      (
        await rawRequest(`${board}/resume`, {
          method: 'PUT',
          headers: { authorization, origin: `http://${host}`, 'sec-fetch-site': 'same-origin' },
        })
      ).status,
      200,
    );
    assert.equal(await paused(), false);

    const job = JSON.stringify({ name: 'by-hand', data: {} });
    const counts = async () => JSON.stringify(await app.service.queue.getJobCounts());
    const before = await counts();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      assertError(
        await rawRequest(`${board}/add`, { method: 'POST', headers: { authorization, 'content-type': type }, body: job }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        /application\/json/,
      );
    }
    assert.equal(await counts(), before, 'no job was added');
    const added = await rawRequest(`${board}/add`, { method: 'POST', headers: { authorization, ...json }, body: job });
    assert.equal(added.status, 200, added.text);
    await app.service.queue.obliterate({ force: true });
  });

  test('reads are not guarded: a GET from another origin still answers (the browser keeps the answer from the page)', async () => {
    const answer = await rawRequest(`${app.url}/api/pause`, {
      headers: { authorization, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(answer.status, 200);
  });

  test('the Alertmanager webhook is no admin surface: a POST with a foreign Origin still reaches it', async () => {
    const response = await postWebhook(app.url, webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-1' } }]), undefined, {
      origin: 'https://evil.example',
      'sec-fetch-site': 'cross-site',
    });
    assert.equal(response.status, 202, JSON.stringify(response.body));
  });
});
