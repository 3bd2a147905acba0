import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { RunView } from '../../src/runs/run-view.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody, type AlertSpec } from '../helpers/webhook.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const admin = { authorization: basic('admin', 'pw') };

const playbooks = {
  'restart.yaml': `
name: restart
match: '{alertname="ServiceDown"}'
target: '{{ labels.instance }}'
steps:
  - name: note
    action: log
    with: { message: 'restarting {{ labels.instance }}' }
  - name: restart
    action: exec
    with: { command: [sh, -c, 'exit 0'] }
`,
  'broken.yaml': `
name: broken
match: '{alertname="Broken"}'
retry: { attempts: 3, backoff: 100ms }
steps:
  - name: missing
    action: exec
    with: { command: [/nonexistent/remediator-missing-program] }
`,
};

const errorCodeIn = (body: unknown) => (body as { error: { code: string } }).error.code;
const runsIn = (body: unknown) => (body as { runs: RunView[] }).runs;
const runIn = (body: unknown) => body as RunView;

async function getJson(url: string, headers: Record<string, string> = admin): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the assertion on the body will show it
  }
  return { status: response.status, body, headers: response.headers };
}

/** Posts one alert, waits until its run is completed or failed, and returns the run id. */
async function runToEnd(app: TestService, alert: AlertSpec): Promise<string> {
  const response = await postWebhook(app.url, webhookBody([alert]));
  assert.equal(response.status, 202, JSON.stringify(response.body));
  const jobId = (response.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
  assert.ok(jobId);
  await waitFor(`run ${jobId} to finish`, async () => {
    const state = await app.service.queue.getJobState(jobId);
    return state === 'completed' || state === 'failed';
  }, 20_000);
  return jobId;
}

describe('GET /api/runs with an admin password configured', () => {
  let redis: TestRedis;
  let app: TestService;
  const startsAt = new Date(Date.now() - 5 * 60_000).toISOString();
  const okFingerprint = randomBytes(8).toString('hex');
  const okLabels = { alertname: 'ServiceDown', instance: 'web-1', cluster: 'web' };
  let okRun: string;
  let failedRun: string;

  before(async () => {
    redis = await startRedis();
    app = await startTestService({ redisUrl: redis.url, playbooks, settings: { adminPassword: 'pw' } });
    okRun = await runToEnd(app, { labels: okLabels, fingerprint: okFingerprint, startsAt });
    // A later queue time than okRun, so "newest first" has a defined answer.
    await delay(10);
    failedRun = await runToEnd(app, { labels: { alertname: 'Broken', instance: 'web-2' }, startsAt });
  });

  after(async () => {
    await app.close();
    await redis.stop();
  });

  test('without credentials the runs API answers 401 with a Basic WWW-Authenticate challenge and a JSON error', async () => {
    const response = await getJson(`${app.url}/api/runs`, {});
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.equal(errorCodeIn(response.body), 'UNAUTHORIZED');
  });

  test('a wrong password, a wrong user or a bearer token get 401 as well', async () => {
    for (const authorization of [basic('admin', 'nope'), basic('root', 'pw'), 'Bearer pw']) {
      const response = await getJson(`${app.url}/api/runs`, { authorization });
      assert.equal(response.status, 401, authorization);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Basic /);
    }
    const single = await getJson(`${app.url}/api/runs/${okRun}`, { authorization: basic('admin', 'wrong') });
    assert.equal(single.status, 401);
  });

  test('the list shows runs newest first with playbook, alert, state, steps and a chronological timeline', async () => {
    const response = await getJson(`${app.url}/api/runs`);
    assert.equal(response.status, 200);
    const runs = runsIn(response.body);
    assert.deepEqual(runs.map((run) => run.id), [failedRun, okRun]);

    const ok = runs[1];
    assert.ok(ok);
    assert.equal(ok.playbook, 'restart');
    assert.equal(ok.state, 'completed');
    assert.equal(ok.target, 'web-1');
    assert.equal(ok.alert.fingerprint, okFingerprint);
    assert.deepEqual(ok.alert.labels, okLabels);
    assert.equal(ok.alert.startsAt, startsAt);
    assert.deepEqual(ok.steps.map(({ name, status }) => ({ name, status })), [
      { name: 'note', status: 'succeeded' },
      { name: 'restart', status: 'succeeded' },
    ]);

    const failed = runs[0];
    assert.ok(failed);
    assert.equal(failed.playbook, 'broken');
    assert.equal(failed.state, 'failed');
    assert.match(failed.failedReason ?? '', /REM_STEP_PERMANENT/);
    assert.equal(failed.steps[0]?.status, 'failed');

    for (const run of runs) {
      assert.deepEqual(Object.keys(run.timeline), ['alertStartsAt', 'receivedAt', 'queuedAt', 'startedAt', 'finishedAt'], run.id);
      const { alertStartsAt, receivedAt, queuedAt, startedAt, finishedAt } = run.timeline;
      const times = [alertStartsAt, receivedAt, queuedAt, startedAt ?? '', finishedAt ?? ''].map((iso) => Date.parse(iso));
      assert.ok(times.every(Number.isFinite), `every timeline entry is a timestamp: ${JSON.stringify(run.timeline)}`);
      for (let index = 1; index < times.length; index++) {
        assert.ok((times[index - 1] ?? 0) <= (times[index] ?? 0), `timeline out of order: ${JSON.stringify(run.timeline)}`);
      }
      assert.equal(alertStartsAt, startsAt);
    }
  });

  test('?limit=1 keeps only the newest run', async () => {
    const response = await getJson(`${app.url}/api/runs?limit=1`);
    assert.equal(response.status, 200);
    assert.deepEqual(runsIn(response.body).map((run) => run.id), [failedRun]);
  });

  test('?state=failed lists only failed runs', async () => {
    const response = await getJson(`${app.url}/api/runs?state=failed`);
    assert.equal(response.status, 200);
    assert.deepEqual(runsIn(response.body).map((run) => run.id), [failedRun]);
    assert.ok(runsIn(response.body).every((run) => run.state === 'failed'));
    const completed = await getJson(`${app.url}/api/runs?state=completed`);
    assert.deepEqual(runsIn(completed.body).map((run) => run.id), [okRun]);
  });

  test('?playbook= lists only that playbook\'s runs', async () => {
    const response = await getJson(`${app.url}/api/runs?playbook=restart`);
    assert.equal(response.status, 200);
    assert.deepEqual(runsIn(response.body).map((run) => run.id), [okRun]);
  });

  test('an invalid query such as ?limit=abc or an unknown state answers 400 with a JSON error', async () => {
    for (const query of ['limit=abc', 'limit=0', 'state=exploded']) {
      const response = await getJson(`${app.url}/api/runs?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(errorCodeIn(response.body), 'INVALID_QUERY', query);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    }
  });

  test('GET /api/runs/:id returns that one run', async () => {
    const response = await getJson(`${app.url}/api/runs/${encodeURIComponent(okRun)}`);
    assert.equal(response.status, 200);
    const run = runIn(response.body);
    assert.equal(run.id, okRun);
    assert.equal(run.playbook, 'restart');
    assert.equal(run.state, 'completed');
    assert.equal(run.alert.fingerprint, okFingerprint);
    assert.equal(run.steps.length, 2);
    assert.ok(run.timeline.finishedAt);
  });

  test('an unknown run id answers 404 with a JSON error', async () => {
    const response = await getJson(`${app.url}/api/runs/restart-000000000000000000000000`);
    assert.equal(response.status, 404);
    assert.equal(errorCodeIn(response.body), 'RUN_NOT_FOUND');
  });
});

describe('admin surfaces without an admin password', () => {
  let redis: TestRedis;
  let app: TestService;

  before(async () => {
    redis = await startRedis();
    app = await startTestService({ redisUrl: redis.url, playbooks });
  });

  after(async () => {
    await app.close();
    await redis.stop();
  });

  test('/api/runs, /api/runs/:id and /queues answer 404 even with credentials, because they are disabled', async () => {
    const jobId = await runToEnd(app, { labels: { alertname: 'ServiceDown', instance: 'web-9' } });
    for (const path of ['/api/runs', `/api/runs/${jobId}`, '/queues', '/queues/api/queues', `/queues/api/queues/${app.queueName}`]) {
      for (const headers of [{}, admin]) {
        const response = await getJson(`${app.url}${path}`, headers);
        assert.equal(response.status, 404, path);
        assert.equal(errorCodeIn(response.body), 'NOT_FOUND', path);
        assert.equal(response.headers.get('www-authenticate'), null, path);
      }
    }
  });
});
