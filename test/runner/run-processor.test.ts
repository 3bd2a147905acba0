import assert from 'node:assert/strict';
import { lines } from '../helpers/lines.js';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { access, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import type { RunData, StepRecord } from '../../src/core/run-data.js';
import type { RunView } from '../../src/runs/run-view.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const adminPassword = 'pw';
const adminHeader = { authorization: `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}` };

/** The non-empty lines of a side-effect file; none when the file does not exist. */

/** An exec `command:` as YAML (JSON is YAML): the program is fixed, paths and label values are arguments. */
const argv = (...args: string[]) => JSON.stringify(args);

/** Posts one firing alert and returns the id of the single run it enqueued. */
async function trigger(app: TestService, labels: Record<string, string>, fingerprint = randomBytes(8).toString('hex')): Promise<string> {
  const response = await postWebhook(app.url, webhookBody([{ labels, fingerprint }]));
  assert.equal(response.status, 202, JSON.stringify(response.body));
  const runs = (response.body as { runs: { jobId: string }[] }).runs;
  assert.equal(runs.length, 1, `expected one run for ${JSON.stringify(labels)}`);
  return runs[0]?.jobId ?? '';
}

/** Waits until the run is completed or failed (not merely between retries) and returns its job. */
async function settled(app: TestService, jobId: string): Promise<Job<RunData>> {
  return waitFor(
    `run ${jobId} to complete or fail`,
    async () => {
      const state = await app.service.queue.getJobState(jobId);
      if (state !== 'completed' && state !== 'failed') return undefined;
      return app.service.queue.getJob(jobId);
    },
    20_000,
  );
}

async function stateOf(app: TestService, jobId: string): Promise<string> {
  return app.service.queue.getJobState(jobId);
}

function step(job: Job<RunData>, name: string): StepRecord {
  const record = job.data.steps.find((candidate) => candidate.name === name);
  assert.ok(record, `step ${name} is recorded in ${JSON.stringify(job.data.steps)}`);
  return record;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('the run processor, driven through webhook → queue → worker', () => {
  let redis: TestRedis;
  let app: TestService;
  let dir: { path: string; remove: () => Promise<void> };
  let fence: Server;
  let fenceRequests = 0;
  const file = (name: string) => join(dir.path, name);

  before(async () => {
    redis = await startRedis();
    dir = await tempDir();
    fence = createServer((_req, res) => {
      fenceRequests += 1;
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"already fenced"}');
    });
    await new Promise<void>((resolve) => fence.listen(0, '127.0.0.1', resolve));
    const fencePort = (fence.address() as AddressInfo).port;

    app = await startTestService({
      redisUrl: redis.url,
      settings: { adminPassword },
      playbooks: {
        'ordered.yaml': `
name: ordered
match: '{alertname="Ordered"}'
target: '{{ labels.instance }}'
steps:
  - name: one
    action: exec
    with: { command: ${argv('sh', '-c', 'echo one >> "$1"', 'sh', file('ordered.log'))} }
  - name: two
    action: exec
    with: { command: ${argv('sh', '-c', 'echo two >> "$1"', 'sh', file('ordered.log'))} }
  - name: three
    action: exec
    with: { command: ${argv('sh', '-c', 'echo "three $2" >> "$1"', 'sh', file('ordered.log'), '{{ labels.instance }}')} }
`,
        'flaky.yaml': `
name: flaky
match: '{alertname="Flaky"}'
retry: { attempts: 4, backoff: 100ms }
steps:
  - name: before
    action: exec
    with: { command: ${argv('sh', '-c', 'echo before >> "$1"', 'sh', file('flaky-before.log'))} }
  - name: wobbly
    action: exec
    with: { command: ${argv('sh', '-c', 'echo try >> "$1"; test "$(wc -l < "$1")" -gt 2', 'sh', file('flaky-wobbly.log'))} }
  - name: after
    action: exec
    with: { command: ${argv('sh', '-c', 'echo after >> "$1"', 'sh', file('flaky-after.log'))} }
`,
        'missing-program.yaml': `
name: missing-program
match: '{alertname="MissingProgram"}'
retry: { attempts: 5, backoff: 100ms }
steps:
  - name: prepare
    action: exec
    with: { command: ${argv('sh', '-c', 'echo prepare >> "$1"', 'sh', file('missing-prepare.log'))} }
  - name: run-missing
    action: exec
    with: { command: ${argv('/nonexistent/remediator-no-such-program', '--flag')} }
`,
        'refused-http.yaml': `
name: refused-http
match: '{alertname="RefusedHttp"}'
retry: { attempts: 5, backoff: 100ms }
steps:
  - name: fence
    action: http
    with: { url: 'http://127.0.0.1:${fencePort}/fence', body: { node: '{{ labels.instance }}' } }
`,
        'targeted.yaml': `
name: targeted
match: '{alertname="Targeted"}'
target: 'node/{{ labels.node }}'
retry: { attempts: 3, backoff: 100ms }
steps:
  - name: touch
    action: exec
    with: { command: ${argv('sh', '-c', 'echo touched >> "$1"', 'sh', file('targeted.log'))} }
`,
        'slow.yaml': `
name: slow
match: '{alertname="Slow"}'
retry: { attempts: 1 }
steps:
  - name: hang
    action: exec
    timeout: 300ms
    with: { command: ${argv('sh', '-c', 'echo $$ > "$1"; exec sleep 30', 'sh', file('slow.pid'))} }
`,
        'unknown-label.yaml': `
name: unknown-label
match: '{alertname="UnknownLabel"}'
retry: { attempts: 3, backoff: 100ms }
steps:
  - name: first
    action: exec
    with: { command: ${argv('sh', '-c', 'echo first >> "$1"', 'sh', file('unknown-first.log'))} }
  - name: uses-missing-label
    action: exec
    with: { command: ${argv('sh', '-c', 'echo "$2" >> "$1"', 'sh', file('unknown-second.log'), '{{ labels.datacenter }}')} }
`,
      },
    });
  });

  after(async () => {
    await app.close();
    await new Promise<void>((resolve) => {
      fence.close(() => {
        resolve();
      });
    });
    await dir.remove();
    await redis.stop();
  });

  test('steps run one after another in playbook order and the completed run records every step as succeeded with timestamps', async () => {
    const jobId = await trigger(app, { alertname: 'Ordered', instance: 'db-1' });
    const job = await settled(app, jobId);
    assert.equal(await stateOf(app, jobId), 'completed', job.failedReason);
    assert.deepEqual(await lines(file('ordered.log')), ['one', 'two', 'three db-1']);

    assert.deepEqual(
      job.data.steps.map(({ name, status }) => ({ name, status })),
      [
        { name: 'one', status: 'succeeded' },
        { name: 'two', status: 'succeeded' },
        { name: 'three', status: 'succeeded' },
      ],
    );
    let previousFinish = 0;
    for (const record of job.data.steps) {
      assert.equal(record.action, 'exec');
      assert.equal(record.attempts, 1);
      const started = Date.parse(record.startedAt);
      const finished = Date.parse(record.finishedAt ?? '');
      assert.ok(Number.isFinite(started) && Number.isFinite(finished), `step ${record.name} has ISO timestamps`);
      assert.ok(started >= previousFinish, `step ${record.name} started after the previous step finished`);
      assert.ok(finished >= started);
      assert.equal(record.durationMs, finished - started);
      previousFinish = finished;
    }
    assert.equal((job.data.steps[2]?.output as { exitCode?: number } | undefined)?.exitCode, 0);
  });

  test('the target is rendered from the alert labels and shown in the run', async () => {
    const jobId = await trigger(app, { alertname: 'Ordered', instance: 'db-42' });
    await settled(app, jobId);
    const response = await fetch(`${app.url}/api/runs/${encodeURIComponent(jobId)}`, { headers: adminHeader });
    assert.equal(response.status, 200);
    const run = (await response.json()) as RunView;
    assert.equal(run.target, 'db-42');
    assert.equal(run.state, 'completed');
    assert.deepEqual((await app.service.queue.getJob(jobId))?.returnvalue, {
      playbook: 'ordered',
      target: 'db-42',
      phase: 'remediate',
      dryRun: false,
      steps: [
        { name: 'one', status: 'succeeded' },
        { name: 'two', status: 'succeeded' },
        { name: 'three', status: 'succeeded' },
      ],
    });
  });

  test('a target whose label the alert lacks fails the run permanently with REM_TEMPLATE_UNKNOWN_REFERENCE before any step runs', async () => {
    const jobId = await trigger(app, { alertname: 'Targeted', instance: 'db-8' });
    const job = await settled(app, jobId);
    assert.equal(await stateOf(app, jobId), 'failed');
    assert.equal(job.attemptsMade, 1);
    assert.match(job.failedReason, /REM_TEMPLATE_UNKNOWN_REFERENCE/);
    assert.match(job.failedReason, /labels\.node/);
    assert.deepEqual(job.data.steps, []);
    assert.equal(await exists(file('targeted.log')), false);
    const response = await fetch(`${app.url}/api/runs/${encodeURIComponent(jobId)}`, { headers: adminHeader });
    const run = (await response.json()) as RunView;
    assert.equal(run.target, null);

    const rendered = await trigger(app, { alertname: 'Targeted', node: 'pg-2' });
    await settled(app, rendered);
    assert.equal(await stateOf(app, rendered), 'completed');
    assert.equal((await app.service.queue.getJob(rendered))?.data.target, 'node/pg-2');
  });

  test('a step that fails twice is retried with growing backoff until it succeeds, and the steps before it are not run again', async () => {
    const jobId = await trigger(app, { alertname: 'Flaky' });
    const job = await settled(app, jobId);
    assert.equal(await stateOf(app, jobId), 'completed', job.failedReason);

    assert.equal((await lines(file('flaky-before.log'))).length, 1, 'the step before the flaky one ran once');
    assert.equal((await lines(file('flaky-wobbly.log'))).length, 3, 'the flaky step ran three times');
    assert.equal((await lines(file('flaky-after.log'))).length, 1);
    assert.equal(step(job, 'before').attempts, 1);
    assert.equal(step(job, 'wobbly').attempts, 3);
    assert.equal(step(job, 'wobbly').status, 'succeeded');
    assert.equal(step(job, 'after').attempts, 1);
    assert.ok(job.data.steps.every((record) => record.status === 'succeeded'));

    // The backoff (exponential from 100 ms) separates each failure from the next attempt.
    const mine = app.logs.filter((line) => line.jobId === jobId);
    const time = (line: Record<string, unknown> | undefined) => Date.parse(typeof line?.time === 'string' ? line.time : '');
    const failures = mine.filter((line) => line.msg === 'step failed');
    const starts = mine.filter((line) => line.msg === 'run started');
    assert.deepEqual(
      starts.map((line) => line.attempt),
      [1, 2, 3],
    );
    assert.equal(failures.length, 2);
    assert.ok(time(starts[1]) - time(failures[0]) >= 95, 'the second attempt waited about the first backoff (100 ms)');
    assert.ok(time(starts[2]) - time(failures[1]) >= 190, 'the third attempt waited about the doubled backoff (200 ms)');
  });

  test('running a program that does not exist fails the job at once with REM_STEP_PERMANENT, without using its five attempts', async () => {
    const jobId = await trigger(app, { alertname: 'MissingProgram' });
    const job = await settled(app, jobId);
    assert.equal(await stateOf(app, jobId), 'failed');
    assert.equal(job.attemptsMade, 1);
    assert.match(job.failedReason, /REM_STEP_PERMANENT/);
    assert.match(job.failedReason, /ENOENT/);
    assert.equal(step(job, 'prepare').status, 'succeeded');
    assert.equal(step(job, 'run-missing').status, 'failed');
    assert.equal(step(job, 'run-missing').attempts, 1);
    assert.equal(step(job, 'run-missing').error?.code, 'REM_STEP_PERMANENT');
    assert.equal((await lines(file('missing-prepare.log'))).length, 1);
  });

  test('an http step answered 400 fails the job at once with REM_STEP_PERMANENT and the server is called exactly once', async () => {
    const before = fenceRequests;
    const jobId = await trigger(app, { alertname: 'RefusedHttp', instance: 'db-3' });
    const job = await settled(app, jobId);
    assert.equal(await stateOf(app, jobId), 'failed');
    assert.equal(job.attemptsMade, 1);
    assert.match(job.failedReason, /REM_STEP_PERMANENT/);
    assert.match(job.failedReason, /400/);
    assert.equal(step(job, 'fence').error?.code, 'REM_STEP_PERMANENT');
    assert.equal(fenceRequests - before, 1);
  });

  test('a step that runs past its 300ms timeout fails with REM_STEP_TIMEOUT and its process is killed', async () => {
    const jobId = await trigger(app, { alertname: 'Slow' });
    const job = await settled(app, jobId);
    assert.equal(await stateOf(app, jobId), 'failed');
    assert.equal(step(job, 'hang').status, 'failed');
    assert.equal(step(job, 'hang').error?.code, 'REM_STEP_TIMEOUT');
    assert.match(job.failedReason, /REM_STEP_TIMEOUT/);
    const pid = Number((await readFile(file('slow.pid'), 'utf8')).trim());
    assert.ok(pid > 0);
    await waitFor(
      `the timed-out process ${pid} to be gone`,
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      10_000,
    );
  });

  test('a template reference to a label the alert lacks fails the step permanently with REM_TEMPLATE_UNKNOWN_REFERENCE', async () => {
    const jobId = await trigger(app, { alertname: 'UnknownLabel', instance: 'db-9' });
    const job = await settled(app, jobId);
    assert.equal(await stateOf(app, jobId), 'failed');
    assert.equal(job.attemptsMade, 1, 'no retry: the label will not appear by trying again');
    assert.equal(step(job, 'first').status, 'succeeded');
    const failed = step(job, 'uses-missing-label');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'REM_TEMPLATE_UNKNOWN_REFERENCE');
    assert.match(failed.error.message, /labels\.datacenter/);
    assert.match(job.failedReason, /labels\.datacenter/);
    assert.equal((await lines(file('unknown-first.log'))).length, 1);
    assert.equal(await exists(file('unknown-second.log')), false, 'the step with the unrenderable argument never ran');
  });

  test('after runs, /metrics reports finished runs, step durations and the completed queue depth', async () => {
    const jobId = await trigger(app, { alertname: 'Ordered', instance: 'db-5' });
    await settled(app, jobId);
    const response = await fetch(`${app.url}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    const value = (pattern: RegExp) => {
      const match = pattern.exec(text);
      assert.ok(
        match,
        `${String(pattern)} in /metrics:\n${text
          .split('\n')
          .filter(
            (line) => line.startsWith('remediator_') && !line.startsWith('remediator_process') && !line.startsWith('remediator_nodejs'),
          )
          .join('\n')}`,
      );
      return Number(match[1]);
    };
    assert.ok(value(/^remediator_runs_total\{playbook="ordered",outcome="succeeded"\} (\d+)$/m) >= 1);
    assert.ok(value(/^remediator_step_duration_seconds_count\{action="exec",outcome="succeeded"\} (\d+)$/m) >= 3);
    assert.ok(value(/^remediator_queue_jobs\{state="completed"\} (\d+)$/m) >= 1);
  });

  test("the run's log lines carry the job id, playbook and alert fingerprint", async () => {
    const fingerprint = 'feedface00c0ffee';
    const jobId = await trigger(app, { alertname: 'Ordered', instance: 'db-6' }, fingerprint);
    await settled(app, jobId);
    const mine = await waitFor(
      'the run finished log line',
      () => {
        const found = app.logs.filter((line) => line.jobId === jobId);
        return found.some((line) => line.msg === 'run finished') ? found : undefined;
      },
      5000,
    );
    const messages = mine.map((line) => line.msg);
    for (const expected of ['run started', 'step succeeded', 'run finished'])
      assert.ok(messages.includes(expected), `"${expected}" in ${JSON.stringify(messages)}`);
    for (const line of mine) {
      assert.equal(line.playbook, 'ordered', JSON.stringify(line));
      assert.equal(line.fingerprint, fingerprint, JSON.stringify(line));
    }
    const stepLines = mine.filter((line) => line.msg === 'step succeeded');
    assert.deepEqual(
      stepLines.map((line) => line.step),
      ['one', 'two', 'three'],
    );
  });

  test('a dry run records every step as would-run with its rendered parameters and causes no side effect', async () => {
    const dryFile = file('dry-run-created');
    const dry = await startTestService({
      redisUrl: redis.url,
      settings: { dryRun: true },
      playbooks: {
        'dry.yaml': `
name: dry
match: '{alertname="Dry"}'
target: '{{ labels.instance }}'
steps:
  - name: create
    action: exec
    with: { command: ${argv('sh', '-c', 'echo "$2" > "$1"', 'sh', dryFile, '{{ labels.instance }}')} }
  - name: notify
    action: http
    with: { url: 'http://127.0.0.1:9/notify/{{ labels.instance }}' }
`,
      },
    });
    try {
      const jobId = await trigger(dry, { alertname: 'Dry', instance: 'db 7' });
      const job = await settled(dry, jobId);
      assert.equal(await stateOf(dry, jobId), 'completed', job.failedReason);
      assert.equal(job.data.dryRun, true);
      assert.deepEqual(
        job.data.steps.map(({ name, status }) => ({ name, status })),
        [
          { name: 'create', status: 'would-run' },
          { name: 'notify', status: 'would-run' },
        ],
      );
      assert.deepEqual((step(job, 'create').params as { command: string[] }).command, [
        'sh',
        '-c',
        'echo "$2" > "$1"',
        'sh',
        dryFile,
        'db 7',
      ]);
      assert.equal((step(job, 'notify').params as { url: string }).url, 'http://127.0.0.1:9/notify/db%207');
      assert.equal(await exists(dryFile), false, 'a dry run must not run the program');
      const metrics = await (await fetch(`${dry.url}/metrics`)).text();
      assert.match(metrics, /^remediator_runs_total\{playbook="dry",outcome="dry_run"\} 1$/m);
    } finally {
      await dry.close();
    }
  });
});
