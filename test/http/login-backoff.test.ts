import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { errorCodeOf, rawRequest, type RawAnswer } from '../helpers/raw-request.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';

const password = 'right-password-5c1e';
const basic = (secret: string) => `Basic ${Buffer.from(`admin:${secret}`).toString('base64')}`;
const wrong = (attempt: number) => basic(`guess-${attempt}-f00d`);

const playbooks = { 'note-down.yaml': noteDownPlaybook };

describe('failed admin logins are counted, logged sparingly and slowed down per client address', () => {
  let redis: TestRedis;
  let app: TestService;
  // The service's clock: the test moves it instead of sleeping.
  const clock = { ms: Date.parse('2026-12-01T00:00:00Z') };

  /** GET `path` as `authorization`, connecting from `from` (127.0.0.3 is another client on this machine). */
  const get = (path: string, authorization: string, from = '127.0.0.1') =>
    rawRequest(`${app.url}${path}`, { headers: { authorization }, localAddress: from });
  const failures = async (reason: string) =>
    Number(
      new RegExp(`^remediator_admin_auth_failures_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(
        await app.service.metrics.registry.metrics(),
      )?.[1],
    );
  const loginLines = () => app.logs.filter((line) => line.msg === 'admin login failed');
  const assertThrottled = (answer: RawAnswer, retryAfter: string) => {
    assert.equal(answer.status, 429, answer.text);
    assert.equal(answer.headers['retry-after'], retryAfter);
    assert.equal(errorCodeOf(answer), 'TOO_MANY_FAILED_LOGINS');
  };

  before(async () => {
    redis = await startRedis();
    app = await startTestService({
      redisUrl: redis.url,
      playbooks,
      settings: { adminPassword: password, worker: false },
      now: () => clock.ms,
    });
  });

  after(async () => {
    await app.close();
    await redis.stop();
  });

  test('after five wrong passwords an address gets 429 with Retry-After, unchecked even with the right password; each failure is counted, few are logged', async () => {
    const answers: number[] = [];
    for (let attempt = 0; attempt < 50; attempt++) answers.push((await get('/api/runs', wrong(attempt))).status);
    assert.deepEqual(answers, [...Array<number>(5).fill(401), ...Array<number>(45).fill(429)]);
    assertThrottled(await get('/api/runs', basic(password)), '1');
    assertThrottled(await get('/queues', basic(password)), '1');
    assert.equal(await failures('invalid'), 5);
    assert.equal(await failures('throttled'), 47);
    // The clock stood still: one line in its 10 s, the rest held back and counted in the next one.
    assert.equal(loginLines().length, 1);
    const { client, reason, failures: counted, suppressed, level } = loginLines()[0] ?? {};
    assert.deepEqual(
      { client, reason, counted, suppressed, level },
      { client: '127.0.0.1', reason: 'invalid', counted: 1, suppressed: 0, level: 'warn' },
    );
    assert.ok(!app.rawLogs().includes('guess-') && !app.rawLogs().includes(password), 'no password is logged');
  });

  test('another address with the right password gets in while the first waits', async () => {
    assertThrottled(await get('/api/runs', basic(password)), '1');
    const other = await get('/api/runs', basic(password), '127.0.0.3');
    assert.equal(other.status, 200, other.text);
    assert.equal((await get('/queues', basic(password), '127.0.0.3')).status, 200);
  });

  test('once its wait is over an address is checked again; another failure doubles the wait, the right password resets it', async () => {
    clock.ms += 1000;
    assert.equal((await get('/api/runs', wrong(100))).status, 401);
    assertThrottled(await get('/api/runs', wrong(101)), '2');
    clock.ms += 1999;
    assertThrottled(await get('/api/runs', basic(password)), '1');
    clock.ms += 1;
    assert.equal((await get('/api/runs', basic(password))).status, 200);
    // Reset: the next wrong password is a first failure, answered 401 and followed by no wait.
    assert.equal((await get('/api/runs', wrong(102))).status, 401);
    assert.equal((await get('/api/runs', basic(password))).status, 200);
    clock.ms += 10_000;
    assert.equal((await get('/api/runs', wrong(103))).status, 401);
    const line = loginLines().at(-1);
    assert.equal(line?.failures, 1, 'the failure after the reset counts from one');
    assert.ok(Number(line.suppressed) > 0, 'the held-back failures are counted in the next line');
  });

  test('a request without credentials (a browser before the challenge) is not a failure', async () => {
    const before = await failures('invalid');
    for (let attempt = 0; attempt < 10; attempt++)
      assert.equal((await rawRequest(`${app.url}/api/runs`, { localAddress: '127.0.0.4' })).status, 401);
    assert.equal(await failures('invalid'), before);
    assert.equal((await get('/api/runs', basic(password), '127.0.0.4')).status, 200);
  });
});
