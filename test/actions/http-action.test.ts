import assert from 'node:assert/strict';
import { appError, runAction } from '../helpers/action-run.js';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ActionDefinition } from '../../src/core/action.js';
import { createHttpAction } from '../../src/actions/http-action.js';
import { errorCodes } from '../../src/core/errors/index.js';
import { freePort } from '../../src/util/free-port.js';
import { waitFor } from '../helpers/wait.js';

interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface HttpOutput {
  status: number;
  body: string;
}

const run = (action: ActionDefinition, withBlock: Record<string, unknown>, signal?: AbortSignal) =>
  runAction<HttpOutput>(action, withBlock, signal);

describe('http action', () => {
  const action = createHttpAction();
  const requests: RecordedRequest[] = [];
  /** Slow requests whose connection the client closed, by path. */
  const closedSlow: string[] = [];
  let server: Server;
  let base: string;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        const path = req.url ?? '/';
        requests.push({ method: req.method ?? '', path, headers: req.headers, body });
        const status = /^\/status\/(\d{3})$/.exec(path)?.[1];
        if (status !== undefined) {
          res.writeHead(Number(status), { 'content-type': 'text/plain' }).end(`answer ${status}`);
        } else if (path.startsWith('/slow')) {
          // Never answers; notes when the client gives up on the request.
          res.on('close', () => {
            closedSlow.push(path);
          });
        } else if (path === '/redirect') {
          res.writeHead(302, { location: '/redirected' }).end();
        } else if (path === '/endless') {
          // Streams until the client hangs up, like a misbehaving API or a log tail.
          res.writeHead(200, { 'content-type': 'text/plain' });
          const timer = setInterval(() => res.write('x'.repeat(512)), 5);
          res.on('close', () => {
            clearInterval(timer);
            closedSlow.push(path);
          });
        } else if (path.startsWith('/big')) {
          res.writeHead(200, { 'content-type': 'text/plain' });
          for (let i = 0; i < 1000; i++) res.write(`${String(i).padStart(9, '0')}\n`);
          res.end();
        } else {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('fine');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  });

  const last = (path: string): RecordedRequest => {
    const found = requests.filter((request) => request.path === path).at(-1);
    assert.ok(found, `the server received ${path}`);
    return found;
  };

  test('an object body is sent as JSON with its method, the given headers and content-type application/json', async () => {
    const output = await run(action, {
      method: 'PUT',
      url: `${base}/json`,
      headers: { 'X-Api-Token': 'secret-token', 'X-Run': 'r1' },
      body: { target: 'db-1', promote: true, replicas: ['db-2', 'db-3'] },
    });
    assert.deepEqual(output, { status: 200, body: 'fine' });
    const request = last('/json');
    assert.equal(request.method, 'PUT');
    assert.equal(request.headers['x-api-token'], 'secret-token');
    assert.equal(request.headers['x-run'], 'r1');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(request.body), { target: 'db-1', promote: true, replicas: ['db-2', 'db-3'] });
  });

  test('secretHeaders are read by reference when the step runs and sent, never taken from the playbook', async () => {
    const secrets: Record<string, string> = { PDNS_API_KEY: 'k3y-from-env' };
    const withSecrets = createHttpAction({
      readSecret: (reference) => {
        if ('env' in reference && secrets[reference.env] !== undefined) return secrets[reference.env] ?? '';
        throw new Error('not set');
      },
    });
    await run(withSecrets, { url: `${base}/secret`, secretHeaders: { 'X-API-Key': { env: 'PDNS_API_KEY' } } });
    assert.equal(last('/secret').headers['x-api-key'], 'k3y-from-env');
    await assert.rejects(
      run(withSecrets, { url: `${base}/secret`, secretHeaders: { 'X-API-Key': { env: 'MISSING' } } }),
      appError(errorCodes.STEP_PERMANENT, /secret header X-API-Key: not set/),
    );
    assert.equal(
      withSecrets.schema.safeParse({ url: base, secretHeaders: { 'X-API-Key': 'inline-value' } }).success,
      false,
      'an inline value is refused',
    );
  });

  test('a content-type given in headers is kept for an object body', async () => {
    await run(action, { url: `${base}/json-custom`, headers: { 'Content-Type': 'application/vnd.api+json' }, body: { a: 1 } });
    assert.equal(last('/json-custom').headers['content-type'], 'application/vnd.api+json');
  });

  test('a string body is sent exactly as written, not JSON-encoded', async () => {
    const text = 'promote db-1 "now"\n';
    await run(action, { url: `${base}/text`, body: text });
    const request = last('/text');
    assert.equal(request.method, 'POST', 'POST is the default method');
    assert.equal(request.body, text);
    assert.notEqual(request.headers['content-type'], 'application/json');
  });

  test('form: sends its fields form-encoded as application/x-www-form-urlencoded, numbers and booleans as text', async () => {
    await run(action, { url: `${base}/form`, form: { a: 1, v: 'x?admin=1&y=2', on: true, sp: 'a b+c' } });
    const request = last('/form');
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual(
      [...new URLSearchParams(request.body)],
      [
        ['a', '1'],
        ['v', 'x?admin=1&y=2'],
        ['on', 'true'],
        ['sp', 'a b+c'],
      ],
    );
  });

  test('form: with a body, or with a Content-Type that is not a form, is refused by the schema', () => {
    assert.equal(action.schema.safeParse({ url: base, form: { a: '1' }, body: 'a=1' }).success, false);
    assert.equal(action.schema.safeParse({ url: base, form: { a: '1' }, headers: { 'content-type': 'application/json' } }).success, false);
    assert.equal(
      action.schema.safeParse({
        url: base,
        form: { a: '1' },
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      }).success,
      true,
    );
  });

  test('a GET without a body sends no body', async () => {
    await run(action, { method: 'GET', url: `${base}/get?x=1` });
    const request = last('/get?x=1');
    assert.equal(request.method, 'GET');
    assert.equal(request.body, '');
  });

  test('any 2xx status is accepted by default', async () => {
    assert.deepEqual(await run(action, { url: `${base}/status/201` }), { status: 201, body: 'answer 201' });
    assert.equal((await run(action, { url: `${base}/status/204` })).status, 204);
  });

  test('a 404 is a success when expectStatus lists 404', async () => {
    assert.deepEqual(await run(action, { method: 'DELETE', url: `${base}/status/404`, expectStatus: [404] }), {
      status: 404,
      body: 'answer 404',
    });
  });

  test('a 200 fails when expectStatus only lists 404', async () => {
    await assert.rejects(
      run(action, { url: `${base}/ok`, expectStatus: [404] }),
      appError(errorCodes.STEP_PERMANENT, /answered 200, expected 404/),
    );
  });

  test('a 503 answer is a transient error', async () => {
    await assert.rejects(run(action, { url: `${base}/status/503` }), appError(errorCodes.STEP_FAILED, /answered 503/));
  });

  test('a 429 answer is a transient error', async () => {
    await assert.rejects(run(action, { url: `${base}/status/429` }), appError(errorCodes.STEP_FAILED, /answered 429/));
  });

  test('a 400 answer is a permanent error', async () => {
    await assert.rejects(run(action, { url: `${base}/status/400` }), appError(errorCodes.STEP_PERMANENT, /answered 400, expected 2xx/));
  });

  test('a refused connection is a transient error', async () => {
    const closedPort = await freePort();
    await assert.rejects(run(action, { url: `http://127.0.0.1:${closedPort}/x` }), appError(errorCodes.STEP_FAILED, /failed/));
  });

  test('aborting the signal cancels the request to a server that never answers', async () => {
    const controller = new AbortController();
    const reason = new Error('step timed out');
    const started = Date.now();
    const running = run(action, { url: `${base}/slow-abort` }, controller.signal);
    running.catch(() => undefined);
    await waitFor('the slow request to reach the server', () => requests.some((request) => request.path === '/slow-abort'));
    controller.abort(reason);
    await assert.rejects(running, (error: unknown) => error === reason);
    await waitFor('the server to see the request closed', () => closedSlow.includes('/slow-abort'), 5000);
    assert.ok(Date.now() - started < 10_000);
  });

  test('a timeout signal ends the request to a server that never answers', async () => {
    const started = Date.now();
    await assert.rejects(run(action, { url: `${base}/slow-timeout` }, AbortSignal.timeout(300)), (error: unknown) => {
      assert.equal((error as Error).name, 'TimeoutError');
      return true;
    });
    assert.ok(Date.now() - started < 10_000);
  });

  test('a redirect is not followed: a 302 is an unexpected status', async () => {
    await assert.rejects(run(action, { url: `${base}/redirect` }), appError(errorCodes.STEP_PERMANENT, /answered 302/));
    assert.equal(
      requests.some((request) => request.path === '/redirected'),
      false,
      'the redirect target was never requested',
    );
  });

  test('a 302 can be expected explicitly and is then returned as is', async () => {
    assert.equal((await run(action, { method: 'GET', url: `${base}/redirect`, expectStatus: ['3xx'] })).status, 302);
  });

  test('the schema rejects header values containing CR or LF', () => {
    for (const value of ['a\r\nX-Evil: 1', 'a\nX-Evil: 1', 'a\rb']) {
      assert.equal(action.schema.safeParse({ url: `${base}/x`, headers: { 'X-Note': value } }).success, false, JSON.stringify(value));
    }
  });

  test('the schema rejects header names that are not HTTP tokens', () => {
    for (const name of ['X-A\r\nX-Evil', 'X A', 'X-A:']) {
      assert.equal(action.schema.safeParse({ url: `${base}/x`, headers: { [name]: 'v' } }).success, false, JSON.stringify(name));
    }
  });

  test('the schema rejects URLs that are not http or https', () => {
    assert.equal(action.schema.safeParse({ url: 'file:///etc/passwd' }).success, false);
    assert.equal(action.schema.safeParse({ url: 'not a url' }).success, false);
  });

  test('the response body is cut after maxResponseBytes, keeping its start (where an API puts its error) and a cut mark', async () => {
    const output = await run(action, { method: 'GET', url: `${base}/big`, maxResponseBytes: 100 });
    assert.equal(output.status, 200);
    assert.ok(output.body.startsWith('000000000\n000000001\n'), output.body.slice(0, 30));
    assert.ok(output.body.endsWith('[…cut at 100 bytes]'), output.body.slice(-30));
    assert.equal(Buffer.byteLength(output.body.slice(0, -'[…cut at 100 bytes]'.length)), 100);
  });

  test('an endless response body is read only up to maxResponseBytes and the connection is then closed', async () => {
    const output = await run(action, { method: 'GET', url: `${base}/endless`, maxResponseBytes: 1000 });
    assert.equal(output.status, 200);
    assert.ok(output.body.endsWith('[…cut at 1000 bytes]'));
    await waitFor('the server to see the connection closed', () => closedSlow.includes('/endless'));
  });
});
