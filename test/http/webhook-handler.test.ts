import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import type { AlertIntake } from '../../src/alerts/alert-intake.js';
import { AppError, errorCodes } from '../../src/core/errors/index.js';
import { createWebhookHandler } from '../../src/http/webhook-handler.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createMetrics, type RemediatorMetrics, type WebhookOutcome } from '../../src/metrics/create-metrics.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const token = 'webhook-token-handler-7e21';

/** How often the webhook has answered with `outcome` so far. */
async function outcomeCount(metrics: RemediatorMetrics, outcome: WebhookOutcome): Promise<number> {
  const values = (await metrics.webhookRequests.get()).values;
  return values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
}

const errorCode = (body: unknown) => (body as { error?: { code?: string } }).error?.code;

/**
 * Sends only the head of a webhook POST announcing `length` bytes, over a raw socket, and resolves with everything the
 * server wrote once it closes the connection; rejects when nothing closes it within `timeoutMs`.
 */
function announceOnly(url: string, path: string, length: number, timeoutMs = 5000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer and no close within ${timeoutMs} ms; received: ${JSON.stringify(received)}`));
    }, timeoutMs);
    socket.on('connect', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    socket.on('error', () => {
      /* the close below settles it */
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

describe('the webhook fast path in the service, next to the express app', () => {
  let redis: TestRedis;
  let app: TestService;
  before(async () => {
    redis = await startRedis();
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'note-down.yaml': noteDownPlaybook },
      settings: { webhookToken: token },
    });
  });
  after(async () => {
    await app.close();
    await redis.stop();
  });

  test('a query string on the webhook path is accepted and its run queued', async () => {
    const response = await fetch(`${app.url}/webhooks/alertmanager?source=am-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-q' } }])),
    });
    assert.equal(response.status, 202);
    const body = (await response.json()) as { runs: { jobId: string }[] };
    assert.equal(body.runs.length, 1);
    assert.ok(await app.service.queue.getJob(body.runs[0]?.jobId ?? ''), 'the job is in Redis');
  });

  test('GET on the webhook path still answers 404 with a JSON error from the express app', async () => {
    const response = await fetch(`${app.url}/webhooks/alertmanager`);
    assert.equal(response.status, 404);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json; charset=utf-8/);
    assert.deepEqual(await response.json(), { error: { code: 'NOT_FOUND', message: 'no route for GET /webhooks/alertmanager' } });
  });

  test('the spellings only express matched (case, trailing slash) still reach the webhook, and OPTIONS still lists POST', async () => {
    for (const path of ['/Webhooks/AlertManager', '/webhooks/alertmanager/']) {
      const response = await fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-s' } }])),
      });
      assert.equal(response.status, 202, path);
      const refused = await fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(refused.status, 401, `${path} without credentials`);
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="remediator"');
    }
    const options = await fetch(`${app.url}/webhooks/alertmanager`, { method: 'OPTIONS' });
    assert.equal(options.status, 200);
    assert.equal(options.headers.get('allow'), 'POST');
  });

  test('a Content-Length over the limit is answered 413 from the header, without waiting for the body, and the connection is closed', async () => {
    for (const path of ['/webhooks/alertmanager', '/Webhooks/AlertManager/']) {
      const tooLargeBefore = await outcomeCount(app.service.metrics, 'too_large');
      const answer = await announceOnly(app.url, path, 1024 * 1024 * 1024);
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      assert.match(head, /^HTTP\/1\.1 413 /, path);
      assert.match(head, /\r\nConnection: close\r\n/i, path);
      assert.deepEqual(
        JSON.parse(body),
        {
          error: {
            code: 'PAYLOAD_TOO_LARGE',
            message: `body exceeds the limit of ${1024 * 1024} bytes (Content-Length: ${1024 * 1024 * 1024})`,
          },
        },
        path,
      );
      assert.equal(await outcomeCount(app.service.metrics, 'too_large'), tooLargeBefore + 1, path);
    }
  });

  test('a sender that goes on writing a body a little over the limit after the 413 came meets no reset (EPIPE) and keeps the answer', async () => {
    // The head first, then the 1.5 MiB body (limit 1 MiB) only once the answer is in: the sender is mid-body when
    // the server is done with it, as a sender on a slow link is. Closing the connection then resets it.
    const { hostname, port } = new URL(app.url);
    const bodyLength = 1.5 * 1024 * 1024;
    const outcome = await new Promise<{ received: string; error?: string }>((resolve) => {
      const socket = connect(Number(port), hostname);
      let received = '';
      let error: string | undefined;
      let writing = false;
      socket.on('connect', () => {
        socket.write(
          `POST /webhooks/alertmanager HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${bodyLength}\r\n\r\n`,
        );
      });
      const writeBody = (offset: number) => {
        if (offset >= bodyLength || socket.destroyed) return;
        const piece = Buffer.alloc(Math.min(64 * 1024, bodyLength - offset), 'x');
        socket.write(piece, (failure) => {
          if (!failure)
            setImmediate(() => {
              writeBody(offset + piece.length);
            });
        });
      };
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
        if (!writing) {
          writing = true;
          writeBody(0);
        }
      });
      socket.on('error', (failure) => (error = failure.message));
      socket.on('close', () => {
        resolve({ received, ...(error === undefined ? {} : { error }) });
      });
    });
    assert.equal(outcome.error, undefined, `the sender met ${outcome.error ?? ''}`);
    const [head = '', body = ''] = outcome.received.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 413 /);
    assert.match(head, /\r\nConnection: close\r\n/i);
    assert.equal(errorCode(JSON.parse(body)), 'PAYLOAD_TOO_LARGE');
  });

  test('a verbatim redelivery is answered 202 redelivered, counted as such, and adds no run', async () => {
    const body = webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-r' } }]);
    const first = await postWebhook(app.url, body, token);
    assert.equal(first.status, 202);
    const jobId = (first.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    const redeliveredBefore = await outcomeCount(app.service.metrics, 'redelivered');
    const again = await postWebhook(app.url, body, token);
    assert.equal(again.status, 202);
    assert.deepEqual(again.body, { status: 'accepted', redelivered: true });
    assert.equal(await outcomeCount(app.service.metrics, 'redelivered'), redeliveredBefore + 1);
    const jobs = await app.service.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
    assert.deepEqual(
      jobs.filter((job) => job.data.alert.labels.instance === 'db-r').map((job) => job.id),
      [jobId],
    );
  });

  test('the same alerts in different bytes are not a redelivery: the answer lists the runs again', async () => {
    const body = webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-d' } }]);
    const first = await postWebhook(app.url, body, token);
    const changed = await postWebhook(app.url, { ...body, notification_reason: 'repeat' }, token);
    assert.equal(changed.status, 202);
    assert.deepEqual((changed.body as { runs: unknown[] }).runs, (first.body as { runs: unknown[] }).runs);
  });

  test('with Redis stopped, a redelivery answers 503 with Retry-After (and a bad body 400); once Redis is back the redelivery is recognised again', async () => {
    const body = webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-o' } }]);
    assert.equal((await postWebhook(app.url, body, token)).status, 202);
    const unavailableBefore = await outcomeCount(app.service.metrics, 'unavailable');
    await redis.pause();
    try {
      const response = await fetch(`${app.url}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('retry-after'), '5');
      const error = ((await response.json()) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, errorCodes.REDIS_UNAVAILABLE);
      assert.match(error.message, /; Alertmanager will retry$/);
      assert.equal(await outcomeCount(app.service.metrics, 'unavailable'), unavailableBefore + 1);
      assert.equal((await postWebhook(app.url, { status: 'burning' }, token)).status, 400, 'a bad body is never a 503');
    } finally {
      await redis.resume();
    }
    const back = await waitFor(
      'the webhook to answer again',
      async () => {
        const response = await postWebhook(app.url, body, token);
        return response.status === 202 ? response : undefined;
      },
      20_000,
      200,
    );
    assert.deepEqual(back.body, { status: 'accepted', redelivered: true });
  });
});

/** A fake intake whose `seen` does what a test asks, recording what it was called with. */
function fakeIntake(seen: (digest: string) => Promise<boolean>, acceptRedelivered = false) {
  const calls = { seen: [] as string[], accept: [] as (string | undefined)[] };
  const intake: AlertIntake = {
    async seen(digest) {
      calls.seen.push(digest);
      return seen(digest);
    },
    accept(payload, options) {
      calls.accept.push(options?.digest);
      return Promise.resolve({ alerts: payload.alerts.length, runs: [], cancelledFailbacks: [], redelivered: acceptRedelivered });
    },
  };
  return { intake, calls };
}

/** The webhook handler alone on a plain Node server (what the fast path runs), with a fake intake. */
async function serveHandler(
  intake: AlertIntake,
  maxAlerts = 1000,
): Promise<{ url: string; metrics: RemediatorMetrics; logs: Record<string, unknown>[]; close: () => Promise<void> }> {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: {
      write: (line: string) => {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  const metrics = createMetrics({ registry: new Registry(), defaultMetrics: false });
  const server: Server = createServer(
    createWebhookHandler({ intake, metrics, logger, token, user: undefined, bodyLimit: 64 * 1024, maxAlerts }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    metrics,
    logs,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
    },
  };
}

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
const digestOf = (buffer: Buffer) => createHash('sha256').update(buffer).digest('base64url');

function post(
  url: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/webhooks/alertmanager`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'content-length': String(body.length),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the webhook handler with a fake intake', () => {
  test('seen is asked with the sha256 of the body bytes (inflated when compressed), and accept gets the same digest', async (t) => {
    const { intake, calls } = fakeIntake(() => Promise.resolve(false));
    const served = await serveHandler(intake);
    t.after(served.close);
    const body = bytes(webhookBody([{ labels: { alertname: 'InstanceDown' } }]));
    assert.equal((await post(served.url, body)).status, 202);
    assert.equal((await post(served.url, gzipSync(body), { 'content-encoding': 'gzip' })).status, 202);
    assert.deepEqual(calls.seen, [digestOf(body), digestOf(body)]);
    assert.deepEqual(calls.accept, [digestOf(body), digestOf(body)]);
  });

  test('a body seen before is answered without validating it or calling accept', async (t) => {
    const { intake, calls } = fakeIntake(() => Promise.resolve(true));
    const served = await serveHandler(intake);
    t.after(served.close);
    const answer = await post(served.url, bytes({ anything: 'the schema would refuse' }));
    assert.equal(answer.status, 202);
    assert.deepEqual(JSON.parse(answer.text), { status: 'accepted', redelivered: true });
    assert.deepEqual(calls.accept, []);
    assert.equal(await outcomeCount(served.metrics, 'redelivered'), 1);
  });

  test('Redis unreachable on the redelivery lookup: a good body is a 503 at once (accept is not tried), a bad one still a 400', async (t) => {
    const failures = [new AppError(errorCodes.REDIS_UNAVAILABLE, 'could not look up the body'), new Error('Connection is closed.')];
    let next = 0;
    const { intake, calls } = fakeIntake(() => Promise.reject(failures[next++ % failures.length] ?? new Error('no failure')));
    const served = await serveHandler(intake);
    t.after(served.close);
    const body = bytes(webhookBody([{ labels: { alertname: 'InstanceDown' } }]));
    for (const expected of [
      'could not look up the body; Alertmanager will retry',
      'Redis is unavailable: Connection is closed.; Alertmanager will retry',
    ]) {
      const answer = await post(served.url, body);
      assert.equal(answer.status, 503);
      assert.equal(answer.headers['retry-after'], '5');
      assert.deepEqual(JSON.parse(answer.text), { error: { code: errorCodes.REDIS_UNAVAILABLE, message: expected } });
    }
    assert.deepEqual(calls.accept, [], 'no second wait for an unreachable Redis');
    const bad = await post(served.url, bytes({ status: 'burning' }));
    assert.equal(bad.status, 400);
    assert.equal((JSON.parse(bad.text) as { error: { code: string } }).error.code, 'INVALID_WEBHOOK');
    assert.equal(await outcomeCount(served.metrics, 'unavailable'), 2);
    const warned = served.logs.find((line) => line.msg === 'redelivery lookup failed');
    assert.equal(warned?.level, 'warn');
  });

  test('any other failure of the lookup only costs the shortcut: the body takes the full path', async (t) => {
    const { intake, calls } = fakeIntake(() => Promise.reject(new Error('bug in seen')));
    const served = await serveHandler(intake);
    t.after(served.close);
    const body = bytes(webhookBody([{ labels: { alertname: 'InstanceDown' } }]));
    assert.equal((await post(served.url, body)).status, 202);
    assert.deepEqual(calls.accept, [digestOf(body)]);
    assert.equal(await outcomeCount(served.metrics, 'accepted'), 1);
  });

  test('a body that lost the race to an identical one (accept found it accepted meanwhile) is answered as a redelivery', async (t) => {
    const { intake, calls } = fakeIntake(() => Promise.resolve(false), true);
    const served = await serveHandler(intake);
    t.after(served.close);
    const answer = await post(served.url, bytes(webhookBody([{ labels: { alertname: 'InstanceDown' } }])));
    assert.equal(answer.status, 202);
    assert.deepEqual(JSON.parse(answer.text), { status: 'accepted', redelivered: true });
    assert.equal(calls.accept.length, 1);
    assert.equal(await outcomeCount(served.metrics, 'redelivered'), 1);
    assert.equal(await outcomeCount(served.metrics, 'accepted'), 0);
  });

  test('a body of more alerts than the limit is answered 413 naming the limit and the count, before the redelivery lookup or any validation', async (t) => {
    const { intake, calls } = fakeIntake(() => Promise.resolve(false));
    const served = await serveHandler(intake, 1000);
    t.after(served.close);
    const over = await post(served.url, bytes({ receiver: 'r', status: 'firing', alerts: Array.from({ length: 1001 }, () => ({})) }));
    assert.equal(over.status, 413);
    assert.deepEqual(JSON.parse(over.text), {
      error: {
        code: 'TOO_MANY_ALERTS',
        message:
          'the webhook has 1001 alerts, over the limit of 1000 (WEBHOOK_MAX_ALERTS): set max_alerts of the Alertmanager webhook receiver to 1000 or less, or raise the limit',
      },
    });
    assert.deepEqual(calls.seen, []);
    assert.equal(await outcomeCount(served.metrics, 'too_many_alerts'), 1);
    assert.equal(served.logs.find((line) => line.msg === 'webhook refused: too many alerts; its alerts are lost')?.alerts, 1001);
    const atLimit = await post(served.url, bytes({ receiver: 'r', status: 'firing', alerts: Array.from({ length: 1000 }, () => ({})) }));
    assert.equal(atLimit.status, 400, 'as many alerts as the limit are validated');
  });

  test('thousands of empty alerts under the limit: a 400 listing the first 50 problems and saying how many alerts were not checked', async (t) => {
    const { intake, calls } = fakeIntake(() => Promise.resolve(false));
    const served = await serveHandler(intake, 10_000);
    t.after(served.close);
    const answer = await post(served.url, bytes({ receiver: 'r', status: 'firing', alerts: Array.from({ length: 5000 }, () => ({})) }));
    assert.equal(answer.status, 400);
    const error = (JSON.parse(answer.text) as { error: { code: string; message: string; details: { path: string; message: string }[] } })
      .error;
    assert.equal(error.code, 'INVALID_WEBHOOK');
    assert.equal(error.details.length, 50);
    assert.deepEqual(error.details[0], { path: 'alerts.0.status', message: 'Invalid option: expected one of "firing"|"resolved"' });
    const unchecked = Number(/\(only the first 50 problems are listed; (\d+) of 5000 alerts were not checked\)$/.exec(error.message)?.[1]);
    const lastChecked = Math.max(...error.details.map((detail) => Number(detail.path.split('.')[1])));
    assert.equal(unchecked, 5000 - lastChecked - 1, error.message.slice(-200));
    assert.ok(unchecked > 4900);
    assert.deepEqual(calls.accept, []);
  });

  test('a client that disconnects mid-body is counted as invalid and leaves the server answering', async (t) => {
    const { intake, calls } = fakeIntake(() => Promise.resolve(false));
    const served = await serveHandler(intake);
    t.after(served.close);
    await new Promise<void>((resolve) => {
      const req = request(`${served.url}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': '1000' },
      });
      req.on('error', () => {
        resolve();
      });
      req.write('{"receiver": "half', () => {
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 50);
      });
    });
    await waitFor('the aborted body to be counted', async () => (await outcomeCount(served.metrics, 'invalid')) === 1, 5000, 20);
    assert.deepEqual(calls.seen, []);
    assert.equal((await post(served.url, bytes(webhookBody([{ labels: { alertname: 'InstanceDown' } }])))).status, 202);
    assert.equal(errorCode(JSON.parse((await post(served.url, Buffer.from('{"alerts": ['))).text)), 'INVALID_JSON');
  });
});
