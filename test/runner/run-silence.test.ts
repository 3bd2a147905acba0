import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { defineAction } from '../../src/core/action.js';
import { createActionRegistry } from '../../src/core/action-registry.js';
import type { RunData } from '../../src/core/run-data.js';
import { toRunView } from '../../src/runs/run-view.js';
import { freePort } from '../../src/util/free-port.js';
import { startAlertmanager, type TestAlertmanager } from '../helpers/alertmanager.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { runEnded } from '../helpers/run-end.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

/** Steps that hold their run active until the test lets them go, keyed by the alert's `cluster` label. */
const holding = new Map<string, { release: () => void; released: Promise<void> }>();
const holdFor = (cluster: string) => {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  holding.set(cluster, { release, released });
  return release;
};
const holdAction = defineAction({
  name: 'test.hold',
  description: 'keeps the run active until the test releases it',
  schema: z.object({ cluster: z.string() }),
  defaultTimeoutMs: 60_000,
  async run(params, ctx) {
    const held = holding.get(params.cluster);
    if (!held) return {};
    await Promise.race([
      held.released,
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener(
          'abort',
          () => {
            reject(new Error('aborted'));
          },
          { once: true },
        );
      }),
    ]);
    return {};
  },
});
/** Fails the first attempt of each cluster's run, so that the run is retried after its backoff. */
const failedOnce = new Set<string>();
const failOnceAction = defineAction({
  name: 'test.fail-once',
  description: 'fails its first attempt per cluster',
  schema: z.object({ cluster: z.string() }),
  defaultTimeoutMs: 5000,
  run(params) {
    if (failedOnce.has(params.cluster)) return Promise.resolve({});
    failedOnce.add(params.cluster);
    return Promise.reject(new Error('first attempt fails'));
  },
});

const silencing = (steps: string, extra = '') => `
name: failover
match: '{alertname="PrimaryDown"}'
target: '{{ labels.cluster }}'
retry: { attempts: 3, backoff: 200ms }
${extra}
silence:
  matchers: '{alertname=~"InstanceDown|PrimaryDown", cluster="{{ labels.cluster }}"}'
  duration: 5m
steps:
${steps}
`;
const holdStep = `  - name: wait
    action: test.hold
    with: { cluster: '{{ labels.cluster }}' }`;
const failOnceStep = `  - name: flaky
    action: test.fail-once
    with: { cluster: '{{ labels.cluster }}' }`;

const silenceSchema = z.object({
  id: z.string(),
  status: z.object({ state: z.string() }),
  createdBy: z.string(),
  comment: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  matchers: z.array(z.object({ name: z.string(), value: z.string(), isRegex: z.boolean(), isEqual: z.boolean() })),
});

/** Every silence the Alertmanager holds, whatever its state. */
async function silences(am: TestAlertmanager): Promise<z.output<typeof silenceSchema>[]> {
  const response = await fetch(`${am.url}/api/v2/silences`);
  assert.equal(response.status, 200);
  return z.array(silenceSchema).parse(await response.json());
}
const ofRun = async (am: TestAlertmanager, runId: string) => (await silences(am)).filter((silence) => silence.comment.includes(runId));

/** The notifications the Alertmanager sent to the test's webhook, per `cluster` of the firing alerts in them. */
interface Recorder {
  readonly url: string;
  count(cluster: string): number;
  close(): Promise<void>;
}

async function startRecorder(): Promise<Recorder> {
  const counts = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const payload = JSON.parse(body) as { alerts: { status: string; labels: Record<string, string> }[] };
      const clusters = new Set(payload.alerts.filter((alert) => alert.status === 'firing').map((alert) => alert.labels.cluster ?? ''));
      for (const cluster of clusters) counts.set(cluster, (counts.get(cluster) ?? 0) + 1);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    count: (cluster) => counts.get(cluster) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

const actions = () =>
  createActionRegistry([
    ...createDefaultActions({ smtpUrl: undefined, smtpFrom: 'remediator@test', prometheusUrl: undefined, path: process.env.PATH }).values(),
    holdAction,
    failOnceAction,
  ]);

async function startRun(app: TestService, cluster: string): Promise<string> {
  const response = await postWebhook(app.url, webhookBody([{ labels: { alertname: 'PrimaryDown', cluster } }]));
  assert.equal(response.status, 202, JSON.stringify(response.body));
  const jobId = (response.body as { runs: { jobId: string }[] }).runs[0]?.jobId;
  assert.ok(jobId !== undefined);
  return jobId;
}

const runData = (job: { data: RunData }) => job.data;
const silenceErrors = async (app: TestService, operation: string) =>
  (await app.service.metrics.silenceErrors.get()).values.find((value) => value.labels.operation === operation)?.value;

describe('a playbook silence: a real Alertmanager silences the alerts a run handles while the run is active', () => {
  let redis: TestRedis;
  let recorder: Recorder;
  let am: TestAlertmanager;
  let app: TestService;
  before(async () => {
    redis = await startRedis();
    recorder = await startRecorder();
    // Re-sent every group interval (1 s) while firing: a notification that stops while silenced is the silence at work.
    am = await startAlertmanager({ webhookUrl: recorder.url, repeatInterval: '1s' });
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'failover.yaml': silencing(holdStep) },
      actions: actions(),
      silenceAlertmanagers: [am.url],
    });
  });
  after(async () => {
    await app.close();
    await am.stop();
    await recorder.close();
    await redis.stop();
  });

  test('the silence exists while the run is active, created by remediator with the run id, and is expired when the run ends', async () => {
    const cluster = `cache-${randomBytes(3).toString('hex')}`;
    const release = holdFor(cluster);
    const runId = await startRun(app, cluster);
    const [silence] = await waitFor('the run silence', async () => {
      const found = await ofRun(am, runId);
      return found.length > 0 ? found : undefined;
    });
    assert.equal(silence?.status.state, 'active');
    assert.equal(silence.createdBy, 'remediator');
    assert.match(silence.comment, new RegExp(`run ${runId}: playbook failover on ${cluster}`));
    assert.deepEqual(
      silence.matchers.map(({ name, value, isRegex, isEqual }) => ({ name, value, isRegex, isEqual })),
      [
        { name: 'alertname', value: 'InstanceDown|PrimaryDown', isRegex: true, isEqual: true },
        { name: 'cluster', value: cluster, isRegex: false, isEqual: true },
      ],
    );
    const ttlMs = Date.parse(silence.endsAt) - Date.parse(silence.startsAt);
    assert.ok(ttlMs > 4 * 60_000 && ttlMs <= 5 * 60_000 + 1000, `endsAt is duration after startsAt, got ${ttlMs} ms`);
    assert.equal((await app.service.queue.getJobState(runId)) === 'active', true, 'the run is still active');

    release();
    const job = await runEnded(app, runId);
    assert.equal(await job.getState(), 'completed');
    const after = await ofRun(am, runId);
    assert.deepEqual(
      after.map((found) => [found.id, found.status.state]),
      [[silence.id, 'expired']],
    );
    assert.deepEqual(runData(job).silence, { id: silence.id, state: 'expired', alertmanager: am.url, endsAt: silence.endsAt });
    assert.deepEqual(toRunView(job, 'completed')?.silence, runData(job).silence, '/api/runs/:id shows it');
  });

  test('the alerts it covers are not notified again while it stands, and are notified again once it is expired', async () => {
    const cluster = `cache-${randomBytes(3).toString('hex')}`;
    const control = `${cluster}-other`;
    await am.postAlerts([
      { labels: { alertname: 'InstanceDown', cluster, instance: 'a' } },
      { labels: { alertname: 'InstanceDown', cluster: control, instance: 'a' } },
    ]);
    await waitFor('both alerts notified', () => recorder.count(cluster) > 0 && recorder.count(control) > 0, { timeoutMs: 15_000 });

    const release = holdFor(cluster);
    const runId = await startRun(app, cluster);
    const [silence] = await waitFor('the run silence', async () => {
      const found = await ofRun(am, runId);
      return found.length > 0 ? found : undefined;
    });
    await waitFor('the covered alert shown as silenced', async () => {
      const response = await fetch(
        `${am.url}/api/v2/alerts?filter=${encodeURIComponent(`cluster="${cluster}"`)}&filter=alertname%3D%22InstanceDown%22`,
      );
      const alerts = (await response.json()) as { status: { state: string; silencedBy: string[] } }[];
      return alerts.length === 1 && alerts[0]?.status.silencedBy.includes(silence?.id ?? '');
    });
    // A notification already under way when the silence came is let through: the next one of the other group marks the cut.
    const mark = recorder.count(control);
    await waitFor('a notification of the other group', () => recorder.count(control) > mark, { timeoutMs: 15_000 });
    const silenced = recorder.count(cluster);
    const start = recorder.count(control);
    await waitFor('three more repeats of the other group', () => recorder.count(control) >= start + 3, { timeoutMs: 30_000 });
    assert.equal(recorder.count(cluster), silenced, 'no notification of the covered alert while the run is active');

    release();
    const job = await runEnded(app, runId);
    assert.equal(runData(job).silence?.state, 'expired');
    await waitFor('the covered alert notified again', () => recorder.count(cluster) > silenced, { timeoutMs: 15_000 });
  });

  test('a retried run extends its one silence instead of creating a second, and expires it at the end', async () => {
    const retrying = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'failover.yaml': silencing(failOnceStep) },
      actions: actions(),
      silenceAlertmanagers: [am.url],
    });
    try {
      const cluster = `cache-${randomBytes(3).toString('hex')}`;
      const runId = await startRun(retrying, cluster);
      const job = await runEnded(retrying, runId);
      assert.equal(await job.getState(), 'completed');
      assert.equal(job.attemptsMade, 2, 'the first attempt failed and the run was retried');
      const found = await ofRun(am, runId);
      assert.deepEqual(
        found.map((silence) => silence.status.state),
        ['expired'],
      );
      assert.equal(runData(job).silence?.id, found[0]?.id);
      assert.equal(await silenceErrors(retrying, 'create'), 0);
      assert.equal(await silenceErrors(retrying, 'extend'), 0);
      assert.equal(
        retrying.logs.filter((line) => line.msg === 'silenced the alerts the run handles').length,
        1,
        'one silence created for both attempts',
      );
    } finally {
      await retrying.close();
    }
  });

  test('an unreachable Alertmanager does not hold up the run: it succeeds, and the error counter rises', async () => {
    const closed = `http://user:secret-pass@127.0.0.1:${await freePort()}`;
    const unreachable = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'failover.yaml': silencing(holdStep) },
      actions: actions(),
      silenceAlertmanagers: [closed],
    });
    try {
      const cluster = `cache-${randomBytes(3).toString('hex')}`;
      const runId = await startRun(unreachable, cluster);
      const job = await runEnded(unreachable, runId);
      assert.equal(await job.getState(), 'completed');
      assert.deepEqual(
        job.data.steps.map((step) => step.status),
        ['succeeded'],
      );
      assert.equal(runData(job).silence?.state, 'failed');
      assert.match(runData(job).silence?.error ?? '', /unreachable/);
      assert.equal(await silenceErrors(unreachable, 'create'), 1);
      const warning = unreachable.logs.find((line) => line.msg === "could not create the run's silence: the run goes on without it");
      assert.ok(warning, 'the failure is logged');
      assert.ok(!unreachable.rawLogs().includes('secret-pass'), 'the credentials in the URL are not logged');
    } finally {
      await unreachable.close();
    }
  });

  test('of an HA pair, the silence is created on the first Alertmanager that accepts it and expired there', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const pair = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'failover.yaml': silencing(holdStep) },
      actions: actions(),
      silenceAlertmanagers: [down, am.url],
    });
    try {
      const cluster = `cache-${randomBytes(3).toString('hex')}`;
      const runId = await startRun(pair, cluster);
      const job = await runEnded(pair, runId);
      assert.equal(await job.getState(), 'completed');
      assert.equal(runData(job).silence?.alertmanager, am.url);
      assert.equal(runData(job).silence?.state, 'expired');
      assert.deepEqual(
        (await ofRun(am, runId)).map((silence) => silence.status.state),
        ['expired'],
      );
      assert.equal(await silenceErrors(pair, 'create'), 0);
    } finally {
      await pair.close();
    }
  });
});
