import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { UnrecoverableError, Worker } from 'bullmq';
import { runJobId } from '../../src/alerts/job-id.js';
import type { RunData } from '../../src/core/run-data.js';
import type { RunSummary, RunView } from '../../src/runs/run-view.js';
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
const runsIn = (body: unknown) => (body as { runs: RunSummary[] }).runs;
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
  await waitFor(
    `run ${jobId} to finish`,
    async () => {
      const state = await app.service.queue.getJobState(jobId);
      return state === 'completed' || state === 'failed';
    },
    20_000,
  );
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
    // A later queue time than okRun, so "newest first" has a defined answer: the clock is past okRun's.
    const okQueuedAt = (await app.service.queue.getJob(okRun))?.timestamp ?? Number.POSITIVE_INFINITY;
    await waitFor('the clock to pass the queue time of the first run', () => Date.now() > okQueuedAt, 1000, 1);
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
    assert.deepEqual(
      runs.map((run) => run.id),
      [failedRun, okRun],
    );

    const ok = runs[1];
    assert.ok(ok);
    assert.equal(ok.playbook, 'restart');
    assert.equal(ok.state, 'completed');
    assert.equal(ok.target, 'web-1');
    assert.equal(ok.alert.fingerprint, okFingerprint);
    assert.deepEqual(ok.alert.labels, okLabels);
    assert.equal(ok.alert.startsAt, startsAt);
    assert.deepEqual(
      ok.steps.map(({ name, status }) => ({ name, status })),
      [
        { name: 'note', status: 'succeeded' },
        { name: 'restart', status: 'succeeded' },
      ],
    );

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
    assert.deepEqual(
      runsIn(response.body).map((run) => run.id),
      [failedRun],
    );
  });

  test('?state=failed lists only failed runs', async () => {
    const response = await getJson(`${app.url}/api/runs?state=failed`);
    assert.equal(response.status, 200);
    assert.deepEqual(
      runsIn(response.body).map((run) => run.id),
      [failedRun],
    );
    assert.ok(runsIn(response.body).every((run) => run.state === 'failed'));
    const completed = await getJson(`${app.url}/api/runs?state=completed`);
    assert.deepEqual(
      runsIn(completed.body).map((run) => run.id),
      [okRun],
    );
  });

  test("?playbook= lists only that playbook's runs", async () => {
    const response = await getJson(`${app.url}/api/runs?playbook=restart`);
    assert.equal(response.status, 200);
    assert.deepEqual(
      runsIn(response.body).map((run) => run.id),
      [okRun],
    );
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

/** The data of a run as the intake stores it, for `queue.add`. */
function runData(playbook: string, index: number, annotations: Record<string, string> = {}): RunData {
  const startsAt = new Date(Date.parse('2026-11-01T00:00:00Z') + index * 60_000).toISOString();
  return {
    playbook,
    target: `host-${index}`,
    alert: {
      fingerprint: `fp${index}`,
      status: 'firing',
      labels: { alertname: playbook, instance: `host-${index}` },
      annotations,
      startsAt,
    },
    receiver: 'remediator',
    receivedAt: startsAt,
    dryRun: false,
    phase: 'remediate',
    steps: [],
    skipSteps: [],
  };
}

describe('GET /api/runs pages through hundreds of runs of several playbooks in every state', () => {
  let redis: TestRedis;
  let app: TestService;
  /** Every run added, by id: its playbook, queue time and state. */
  const added = new Map<string, { playbook: string; at: number; state: string }>();
  // Uneven on purpose: `rare` has the oldest runs of all, behind hundreds of newer ones in every state.
  const plan: { playbook: string; count: number }[] = [
    { playbook: 'rare', count: 7 },
    { playbook: 'busy', count: 290 },
    { playbook: 'mid', count: 90 },
    { playbook: 'small', count: 25 },
  ];
  const base = Date.parse('2026-11-01T00:00:00Z');

  /** Every run of `query`, following `next` page after page; also each page's size. */
  async function walk(query: string): Promise<{ runs: RunSummary[]; sizes: number[] }> {
    const runs: RunSummary[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const response = await getJson(`${app.url}/api/runs?${query}${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const page = response.body as { runs: RunSummary[]; next?: string };
      runs.push(...page.runs);
      sizes.push(page.runs.length);
      cursor = page.next;
      assert.ok(sizes.length < 100, 'the pages end');
    } while (cursor !== undefined);
    return { runs, sizes };
  }

  /** The ids of `playbook` (all when undefined) in `state` (all when undefined), newest first. */
  const expected = (playbook?: string, state?: string) =>
    [...added.entries()]
      .filter(([, run]) => (playbook === undefined || run.playbook === playbook) && (state === undefined || run.state === state))
      .sort(([, a], [, b]) => b.at - a.at)
      .map(([id]) => id);

  before(async () => {
    redis = await startRedis();
    // No worker in the service: the runs stay where the test puts them.
    app = await startTestService({ redisUrl: redis.url, playbooks, settings: { adminPassword: 'pw', worker: false } });
    const queue = app.service.queue;
    // Interleaved so that every state holds runs of every playbook; the index is the queue time, oldest first.
    const order = plan.flatMap(({ playbook, count }) => Array.from({ length: count }, () => playbook));
    const states = ['completed', 'failed', 'waiting', 'delayed', 'prioritized'] as const;
    const runs = order.map((playbook, index) => {
      const data = runData(playbook, index);
      const id = runJobId({ playbook, fingerprint: data.alert.fingerprint, startsAt: data.alert.startsAt, status: 'firing' });
      return { id, data, at: base + index * 1000, state: states[index % states.length] ?? 'waiting' };
    });
    // A real worker finishes the runs meant to be completed or failed, then stops: the rest stay queued.
    const finishing = runs.filter((run) => run.state === 'completed' || run.state === 'failed');
    const failing = new Set(finishing.filter((run) => run.state === 'failed').map((run) => run.id));
    const worker = new Worker<RunData>(
      app.queueName,
      (job) => (failing.has(job.id ?? '') ? Promise.reject(new UnrecoverableError('meant to fail')) : Promise.resolve()),
      {
        connection: redis.client(),
        concurrency: 50,
      },
    );
    for (const run of finishing) await queue.add('run', run.data, { jobId: run.id, timestamp: run.at, attempts: 1 });
    await waitFor(
      'the finishing runs to finish',
      async () => {
        const counts = await queue.getJobCounts('completed', 'failed');
        return (counts.completed ?? 0) + (counts.failed ?? 0) === finishing.length;
      },
      60_000,
      100,
    );
    await worker.close();
    for (const run of runs.filter((candidate) => !finishing.includes(candidate))) {
      const options = run.state === 'delayed' ? { delay: 3_600_000 } : run.state === 'prioritized' ? { priority: 1 + (run.at % 7) } : {};
      await queue.add('run', run.data, { jobId: run.id, timestamp: run.at, ...options });
    }
    for (const run of runs) added.set(run.id, { playbook: run.data.playbook, at: run.at, state: run.state });
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'delayed', 'prioritized');
    assert.deepEqual(
      Object.values(counts).map((count) => count > 0),
      [true, true, true, true, true],
      JSON.stringify(counts),
    );
  });

  after(async () => {
    await app.close();
    await redis.stop();
  });

  test('every run of each playbook comes exactly once across the pages, newest first, however few runs it has', async () => {
    for (const { playbook, count } of plan) {
      const { runs, sizes } = await walk(`playbook=${playbook}&limit=37`);
      assert.equal(runs.length, count, playbook);
      assert.deepEqual(
        runs.map((run) => run.id),
        expected(playbook),
        `${playbook}: each run once, newest first`,
      );
      assert.ok(runs.every((run) => run.playbook === playbook));
      assert.ok(
        sizes.slice(0, -1).every((size) => size === 37),
        `${playbook}: full pages until the last: ${sizes.join(',')}`,
      );
    }
  });

  test('without a filter the pages hold all runs once, newest first by queue time, whatever their state', async () => {
    const { runs } = await walk('limit=100');
    assert.equal(runs.length, added.size);
    assert.deepEqual(
      runs.map((run) => run.id),
      expected(),
    );
    for (const run of runs) assert.equal(run.state, added.get(run.id)?.state, run.id);
    const times = runs.map((run) => Date.parse(run.timeline.queuedAt));
    assert.ok(times.every((time, index) => index === 0 || time <= (times[index - 1] ?? 0)));
  });

  test('?state= with ?playbook= pages through that state of that playbook only', async () => {
    for (const state of ['failed', 'delayed', 'prioritized']) {
      const { runs } = await walk(`state=${state}&playbook=rare&limit=2`);
      assert.deepEqual(
        runs.map((run) => run.id),
        expected('rare', state),
        state,
      );
      assert.ok(runs.length > 0, `rare has ${state} runs`);
    }
  });

  test('a cursor that this server did not make is a 400 that says what to pass', async () => {
    for (const cursor of ['nonsense', Buffer.from('{"at":"x"}').toString('base64url')]) {
      const response = await getJson(`${app.url}/api/runs?cursor=${cursor}`);
      assert.equal(response.status, 400);
      assert.equal(errorCodeIn(response.body), 'INVALID_QUERY');
      assert.match((response.body as { error: { message: string } }).error.message, /cursor.*next/);
    }
  });

  test('a run with a 2 MB annotation keeps the list small: summaries carry no annotations, the full view does', async () => {
    const annotation = 'x'.repeat(2 * 1024 * 1024);
    const data = runData('small', 10_000, { description: annotation });
    const id = runJobId({ playbook: 'small', fingerprint: data.alert.fingerprint, startsAt: data.alert.startsAt, status: 'firing' });
    await app.service.queue.add('run', data, { jobId: id, timestamp: base + 10_000_000 });
    added.set(id, { playbook: 'small', at: base + 10_000_000, state: 'waiting' });
    const response = await fetch(`${app.url}/api/runs?limit=500`, { headers: admin });
    const text = await response.text();
    assert.equal(response.status, 200);
    const runs = runsIn(JSON.parse(text));
    assert.equal(runs[0]?.id, id, 'the newest run comes first');
    assert.ok(text.length < annotation.length / 4, `the list of ${runs.length} runs is ${text.length} bytes`);
    assert.ok(!text.includes('xxxxxxxxxx'));
    const full = await fetch(`${app.url}/api/runs/${id}`, { headers: admin });
    assert.equal(((await full.json()) as RunView).alert.annotations.description, annotation);
  });
});
