import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createLoginThrottle, defaultLoginThrottle } from '../../src/http/login-throttle.js';
import { freePort } from '../../src/util/free-port.js';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { runRemediator } from '../helpers/remediator-process.js';
import { startTestService, writePlaybooks, type TestService } from '../helpers/service.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp-server.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

const token = 'webhook-token-7f3a9c2e51';
const adminPassword = 'admin-password-b84d0e6c';

/** One way of presenting credentials; `webhook` and `admin` say whether that surface must accept it. */
interface CredentialCase {
  name: string;
  authorization: string | undefined;
  webhook: boolean;
  admin: boolean;
}

const credentials: CredentialCase[] = [
  { name: 'no credentials', authorization: undefined, webhook: false, admin: false },
  { name: 'the admin user with a wrong password', authorization: basic('admin', 'not-the-password'), webhook: false, admin: false },
  { name: 'a wrong user with the admin password', authorization: basic('root', adminPassword), webhook: false, admin: false },
  {
    name: 'the admin password sent as a bearer token (wrong scheme)',
    authorization: `Bearer ${adminPassword}`,
    webhook: false,
    admin: false,
  },
  {
    name: 'the admin credentials under an unknown scheme',
    authorization: `Digest ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`,
    webhook: false,
    admin: false,
  },
  { name: 'the webhook token given as the admin password', authorization: basic('admin', token), webhook: true, admin: false },
  { name: 'the webhook token as a bearer token', authorization: `Bearer ${token}`, webhook: true, admin: false },
  { name: 'the webhook token under an unknown scheme', authorization: `Token ${token}`, webhook: false, admin: false },
  { name: 'a wrong bearer token', authorization: 'Bearer not-the-token', webhook: false, admin: false },
  { name: 'a bearer scheme with an empty token', authorization: 'Bearer ', webhook: false, admin: false },
  {
    name: 'basic credentials that are not user:password',
    authorization: `Basic ${Buffer.from(adminPassword).toString('base64')}`,
    webhook: false,
    admin: false,
  },
  { name: 'the admin user and password', authorization: basic('admin', adminPassword), webhook: false, admin: true },
];

/** One HTTP surface; `ok` checks the answer to credentials it accepts. */
interface Surface {
  name: string;
  kind: 'webhook' | 'admin';
  method: 'GET' | 'POST' | 'PUT';
  path: () => string;
  ok: (response: Answer) => void;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function call(base: string, surface: Surface, authorization: string | undefined): Promise<Answer> {
  const headers: Record<string, string> = { ...(authorization === undefined ? {} : { authorization }) };
  let body: string | undefined;
  if (surface.kind === 'webhook') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-1' } }]));
  }
  const response = await fetch(`${base}${surface.path()}`, { method: surface.method, headers, ...(body === undefined ? {} : { body }) });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function json(answer: Answer): unknown {
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, answer.text.slice(0, 200));
  return JSON.parse(answer.text);
}

/** A 4xx answer carries `{"error":{"code","message"}}` as application/json. */
function assertJsonError(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text.slice(0, 300));
  const body = json(answer) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(body.error?.code, code);
  assert.equal(typeof body.error.message, 'string');
}

describe('auth on every surface with WEBHOOK_TOKEN and ADMIN_PASSWORD configured', () => {
  let redis: TestRedis;
  let app: TestService;
  let runId = '';

  const surfaces: Surface[] = [
    {
      name: 'POST /webhooks/alertmanager',
      kind: 'webhook',
      method: 'POST',
      path: () => '/webhooks/alertmanager',
      ok: (answer) => {
        assert.equal(answer.status, 202, answer.text);
      },
    },
    {
      name: 'GET /api/runs',
      kind: 'admin',
      method: 'GET',
      path: () => '/api/runs',
      ok: (answer) => {
        assert.equal(answer.status, 200, answer.text);
        assert.ok((json(answer) as { runs: { id: string }[] }).runs.some((run) => run.id === runId));
      },
    },
    // Express matches paths case-insensitively: the auth mount must cover every spelling the route answers to.
    {
      name: 'GET /API/Runs',
      kind: 'admin',
      method: 'GET',
      path: () => '/API/Runs',
      ok: (answer) => {
        assert.equal(answer.status, 200, answer.text);
      },
    },
    {
      name: 'GET /api/runs/:id',
      kind: 'admin',
      method: 'GET',
      path: () => `/api/runs/${encodeURIComponent(runId)}`,
      ok: (answer) => {
        assert.equal(answer.status, 200, answer.text);
        assert.equal((json(answer) as { id: string }).id, runId);
      },
    },
    {
      name: 'GET /queues',
      kind: 'admin',
      method: 'GET',
      path: () => '/queues',
      ok: (answer) => {
        assert.equal(answer.status, 200);
        assert.match(answer.headers.get('content-type') ?? '', /^text\/html/);
      },
    },
    {
      name: 'GET /queues/api/queues',
      kind: 'admin',
      method: 'GET',
      path: () => '/queues/api/queues',
      ok: (answer) => {
        assert.equal(answer.status, 200, answer.text);
        assert.ok((json(answer) as { queues: { name: string }[] }).queues.some((queue) => queue.name === app.queueName));
      },
    },
    {
      name: 'PUT /queues/api/queues/:name/retry/failed',
      kind: 'admin',
      method: 'PUT',
      path: () => `/queues/api/queues/${app.queueName}/retry/failed`,
      ok: (answer) => {
        assert.ok(answer.status >= 200 && answer.status < 300, `${answer.status} ${answer.text}`);
      },
    },
  ];

  before(async () => {
    redis = await startRedis();
    // This matrix is about which credentials pass, not about the backoff of failed logins (login-backoff.test.ts):
    // its hundreds of wrong ones from one address would soon be answered 429.
    const loginThrottle = createLoginThrottle({ ...defaultLoginThrottle, freeAttempts: Number.POSITIVE_INFINITY, now: Date.now });
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'note-down.yaml': noteDownPlaybook },
      settings: { webhookToken: token, adminPassword },
      loginThrottle,
    });
    const response = await postWebhook(app.url, webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-0' } }]), token);
    assert.equal(response.status, 202);
    runId = (response.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    await waitFor('the first run to complete', async () => (await app.service.queue.getJobState(runId)) === 'completed', 10_000);
  });

  after(async () => {
    await app.close();
    await redis.stop();
  });

  for (const surface of surfaces) {
    for (const credential of credentials) {
      const accepted = credential[surface.kind];
      const challenge = surface.kind === 'webhook' ? /^Bearer realm="remediator"$/ : /^Basic realm="remediator admin"/;
      test(`${surface.name} ${accepted ? 'accepts' : 'refuses with 401'} ${credential.name}`, async () => {
        const answer = await call(app.url, surface, credential.authorization);
        if (accepted) {
          surface.ok(answer);
          return;
        }
        assertJsonError(answer, 401, 'UNAUTHORIZED');
        assert.match(answer.headers.get('www-authenticate') ?? '', challenge);
        assert.ok(!answer.text.includes(token) && !answer.text.includes(adminPassword), 'the answer does not echo a secret');
      });
    }
  }

  test('a refused webhook enqueues nothing', async () => {
    for (const credential of credentials.filter((candidate) => !candidate.webhook)) {
      const alert = { labels: { alertname: 'InstanceDown', instance: `refused-${randomBytes(4).toString('hex')}` } };
      const headers: Record<string, string> = credential.authorization === undefined ? {} : { authorization: credential.authorization };
      assert.equal((await postWebhook(app.url, webhookBody([alert]), undefined, headers)).status, 401, credential.name);
    }
    const jobs = await app.service.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
    assert.ok(jobs.length > 0, 'the accepted webhooks did add runs');
    assert.ok(!jobs.some((job) => JSON.stringify(job.data).includes('refused-')), 'no refused alert became a run');
  });
});

describe('admin surfaces without ADMIN_PASSWORD', () => {
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

  test('every admin surface answers 404 with a JSON error and no challenge to every credential, while the webhook still takes its token', async () => {
    const paths: { method: string; path: string }[] = [
      { method: 'GET', path: '/api/runs' },
      { method: 'GET', path: '/API/Runs' },
      { method: 'GET', path: '/api/runs/note-down-000000000000' },
      { method: 'GET', path: '/queues' },
      { method: 'GET', path: '/queues/api/queues' },
      { method: 'PUT', path: `/queues/api/queues/${app.queueName}/retry/failed` },
    ];
    for (const { method, path } of paths) {
      for (const credential of credentials) {
        const response = await fetch(`${app.url}${path}`, {
          method,
          headers: credential.authorization === undefined ? {} : { authorization: credential.authorization },
        });
        const answer = { status: response.status, headers: response.headers, text: await response.text() };
        assertJsonError(answer, 404, 'NOT_FOUND');
        assert.equal(answer.headers.get('www-authenticate'), null, `${method} ${path} with ${credential.name}`);
      }
    }
    const accepted = await postWebhook(app.url, webhookBody([{ labels: { alertname: 'InstanceDown', instance: 'db-2' } }]), token);
    assert.equal(accepted.status, 202);
  });
});

describe('secrets never reach the output of remediator serve', () => {
  // Quotes and backslashes are escaped in JSON log lines, and URL characters are percent-encoded in URLs: the
  // secrets carry both so that every form a secret takes on the way to the log is exercised.
  const suffix = randomBytes(4).toString('hex');
  const secrets = {
    webhookToken: `wh-"tok\\en-${suffix}`,
    adminPassword: `adm"in\\pw-${suffix}`,
    redisPassword: `r3dis/pa@ss:${suffix}`,
    smtpPassword: `sm:tp/p@ss-${suffix}`,
  };
  const smtpUser = 'mailer';
  let redis: TestRedis;
  let smtp: TestSmtp;
  let output = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  /** Every form in which a secret could show up: as is, JSON-escaped, percent-encoded, and as basic or SMTP auth. */
  function forms(): { name: string; text: string }[] {
    const list: { name: string; text: string }[] = [];
    for (const [name, value] of Object.entries(secrets)) {
      list.push(
        { name, text: value },
        { name: `${name} JSON-escaped`, text: JSON.stringify(value).slice(1, -1) },
        { name: `${name} percent-encoded`, text: encodeURIComponent(value) },
      );
    }
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    list.push(
      { name: 'admin basic auth', text: base64(`admin:${secrets.adminPassword}`) },
      { name: 'webhook basic auth', text: base64(`alertmanager:${secrets.webhookToken}`) },
      { name: 'SMTP AUTH PLAIN', text: base64(`\u0000${smtpUser}\u0000${secrets.smtpPassword}`) },
      { name: 'SMTP AUTH LOGIN password', text: base64(secrets.smtpPassword) },
    );
    return list;
  }

  before(async () => {
    redis = await startRedis({ password: secrets.redisPassword });
    smtp = await startSmtp({ user: smtpUser, password: secrets.smtpPassword });
    const closedPort = await freePort();
    const playbooks = await writePlaybooks({
      'leaky.yaml': `
name: leaky
match: '{alertname="Leak"}'
retry: { attempts: 1 }
steps:
  - name: note
    action: log
    with: { message: 'label {{ labels.secret }} annotation {{ annotations.secret }} redis {{ labels.redis }} smtp {{ labels.smtp }}' }
  - name: mail
    action: email
    with: { to: oncall@example.test, subject: 'leak {{ labels.secret }}', text: '{{ annotations.secret }}' }
  - name: stderr
    action: exec
    with: { command: [sh, -c, 'printf "%s %s\\n" "$1" "$2" >&2; exit 3', sh, '{{ labels.secret }}', '{{ annotations.secret }}'] }
`,
      'leaky-http.yaml': `
name: leaky-http
match: '{alertname="Leak"}'
retry: { attempts: 1 }
steps:
  - name: call
    action: http
    with: { url: 'http://127.0.0.1:${closedPort}/hook/{{ labels.secret }}?smtp={{ labels.smtp }}' }
`,
    });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const running = runRemediator(['serve'], {
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'debug',
      REMEDIATIONS_DIR: playbooks.dir,
      QUEUE_NAME: `test-secrets-${suffix}`,
      REDIS_URL: redis.url,
      SMTP_URL: smtp.url,
      WEBHOOK_TOKEN: secrets.webhookToken,
      ADMIN_PASSWORD: secrets.adminPassword,
    });
    // The helper keeps only the tail of the output; this keeps all of it, from the first line.
    running.child.stdout?.on('data', (chunk: string) => {
      output += chunk;
    });
    running.child.stderr?.on('data', (chunk: string) => {
      output += chunk;
    });
    try {
      await waitFor(
        'remediator serve to answer',
        async () => {
          if (!running.running()) throw new Error(`remediator exited early:\n${output}`);
          return (await fetch(`${base}/healthz`).catch(() => undefined))?.ok;
        },
        30_000,
        100,
      );

      const admin = { authorization: basic('admin', secrets.adminPassword) };
      // One fixed fingerprint: both accepted webhooks carry the same alert episode, so it runs once.
      const alert = {
        fingerprint: `leak${suffix}`,
        labels: { alertname: 'Leak', secret: secrets.webhookToken, redis: secrets.redisPassword, smtp: secrets.smtpPassword },
        annotations: { secret: secrets.adminPassword },
      };
      // Right and wrong credentials on every surface, some of them wrong by one character.
      const attempts: { path: string; authorization?: string; body?: unknown }[] = [
        { path: '/webhooks/alertmanager', authorization: `Bearer ${secrets.webhookToken}`, body: webhookBody([alert]) },
        { path: '/webhooks/alertmanager', authorization: basic('alertmanager', secrets.webhookToken), body: webhookBody([alert]) },
        { path: '/webhooks/alertmanager', authorization: `Bearer ${secrets.webhookToken}x`, body: webhookBody([alert]) },
        { path: '/webhooks/alertmanager', authorization: basic('admin', secrets.adminPassword), body: webhookBody([alert]) },
        {
          path: '/webhooks/alertmanager',
          authorization: `Bearer ${secrets.webhookToken}`,
          body: { receiver: secrets.webhookToken, status: secrets.adminPassword, alerts: secrets.smtpPassword },
        },
        { path: '/webhooks/alertmanager', authorization: `Bearer ${secrets.webhookToken}`, body: `{"receiver": "${secrets.redisPassword}` },
        { path: '/api/runs', authorization: admin.authorization },
        { path: '/api/runs', authorization: basic('admin', `${secrets.adminPassword}x`) },
        { path: '/api/runs', authorization: `Bearer ${secrets.adminPassword}` },
        { path: `/api/runs/${encodeURIComponent(secrets.adminPassword)}`, authorization: admin.authorization },
        { path: '/queues/api/queues', authorization: admin.authorization },
        { path: '/queues/api/queues', authorization: basic('admin', secrets.webhookToken) },
      ];
      const statuses: number[] = [];
      for (const attempt of attempts) {
        const response = await fetch(`${base}${attempt.path}`, {
          method: attempt.body === undefined ? 'GET' : 'POST',
          headers: {
            'content-type': 'application/json',
            ...(attempt.authorization === undefined ? {} : { authorization: attempt.authorization }),
          },
          ...(attempt.body === undefined ? {} : { body: typeof attempt.body === 'string' ? attempt.body : JSON.stringify(attempt.body) }),
        });
        await response.arrayBuffer();
        statuses.push(response.status);
      }
      assert.deepEqual(statuses, [202, 202, 401, 401, 400, 400, 200, 401, 401, 404, 200, 401]);

      await waitFor(
        'both runs to fail',
        async () => {
          const response = await fetch(`${base}/api/runs?state=failed`, { headers: admin });
          const runs = ((await response.json()) as { runs: { playbook: string }[] }).runs;
          return runs.some((run) => run.playbook === 'leaky') && runs.some((run) => run.playbook === 'leaky-http');
        },
        20_000,
        200,
      );
      assert.equal(smtp.messages.length, 1, 'the mail step authenticated to SMTP with its password and sent');
    } finally {
      await running.stop();
      exit = await running.exited;
      await playbooks.remove();
    }
  });

  after(async () => {
    await smtp.stop();
    await redis.stop();
  });

  test('the process started, served and stopped cleanly on SIGTERM', () => {
    assert.deepEqual(exit, { code: 0, signal: null }, output.slice(-2000));
    assert.match(output, /"msg":"stopped"/);
  });

  test('no secret appears in the output in any form: as is, JSON-escaped, percent-encoded, or base64 in an auth header', () => {
    const found = forms().filter((form) => output.includes(form.text));
    assert.deepEqual(
      found.map((form) => form.name),
      [],
      `secrets in the output:\n${found.map((form) => `${form.name}: ${form.text}`).join('\n')}`,
    );
  });

  test('the secrets did reach the logger and were masked where they would have appeared', () => {
    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const text = (line: Record<string, unknown>) => JSON.stringify(line);
    assert.ok(
      lines.some((line) => line.msg === 'label [redacted] annotation [redacted] redis [redacted] smtp [redacted]'),
      'the log step message, masked',
    );
    assert.ok(
      lines.some((line) => /sh exited with 3: \[redacted\] \[redacted\]/.test(text(line))),
      'the exec step stderr in its error, masked',
    );
    assert.ok(
      lines.some((line) => /\/hook\/\[redacted\]\?smtp=\[redacted\]/.test(text(line))),
      'the http URL with percent-encoded values, masked',
    );
    assert.ok(
      lines.some((line) => /redis:\/\/:redacted@127\.0\.0\.1/.test(text(line))),
      'the Redis URL in the start-up config, with its password replaced',
    );
  });
});
