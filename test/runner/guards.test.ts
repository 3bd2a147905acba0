import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import type { RunData } from '../../src/core/run-data.js';
import { freePort } from '../../src/util/free-port.js';
import { lines } from '../helpers/lines.js';
import { startPrometheus, type TestPrometheus } from '../helpers/prometheus.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { runEnded } from '../helpers/run-end.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

/** A playbook whose one step appends to `effects` and whose skipped: step appends to `notices`. */
function guarded(name: string, guards: string, effects: string, notices: string): string {
  return `
name: ${name}
match: '{alertname="${alertname(name)}"}'
target: '{{ labels.instance }}'
retry: { attempts: 1 }
guards:
${guards}
steps:
  - name: act
    action: exec
    with: { command: [sh, -c, 'echo "$1" >> "$2"', sh, '{{ labels.instance }}', '${effects}'] }
skipped:
  steps:
    - name: tell
      action: exec
      with: { command: [sh, -c, 'echo "$1 $3" >> "$2"', sh, '{{ labels.instance }}', '${notices}', '{{ run.skipReason }}'] }
`;
}

/** The alert a test playbook handles: guard-fails → GuardFails. */
const alertname = (playbook: string) =>
  playbook
    .split('-')
    .map((word) => `${word.charAt(0).toUpperCase()}${word.slice(1)}`)
    .join('');

async function runFor(app: TestService, alertname: string, labels: Record<string, string> = {}): Promise<Job<RunData>> {
  const instance = `node-${randomBytes(4).toString('hex')}`;
  const response = await postWebhook(app.url, webhookBody([{ labels: { alertname, instance, ...labels } }]));
  assert.equal(response.status, 202, JSON.stringify(response.body));
  const jobId = (response.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
  return runEnded(app, jobId);
}

describe('playbook guards: PromQL preconditions against a real Prometheus', () => {
  let redis: TestRedis;
  let prometheus: TestPrometheus;
  let app: TestService;
  let offline: TestService;
  let dir: { path: string; remove: () => Promise<void> };
  const effects = () => lines(join(dir.path, 'effects'));
  const notices = () => lines(join(dir.path, 'notices'));

  before(async () => {
    [redis, prometheus, dir] = await Promise.all([startRedis(), startPrometheus(), tempDir()]);
    const fx = join(dir.path, 'effects');
    const nx = join(dir.path, 'notices');
    app = await startTestService({
      redisUrl: redis.url,
      prometheusUrl: prometheus.url,
      playbooks: {
        'pass.yaml': guarded(
          'guard-passes',
          `  - { name: prometheus-up, query: 'max(up{job="prometheus"}) == 1' }
  - { name: nothing-down, query: 'up{job="prometheus"} == 0', expect: 'false' }`,
          fx,
          nx,
        ),
        'fail.yaml': guarded(
          'guard-fails',
          `  - { name: prometheus-up, query: 'max(up{job="prometheus"}) == 1' }
  - { name: job-is-up, query: 'up{job="{{ labels.job }}"} == 1' }`,
          fx,
          nx,
        ),
      },
    });
    // Nothing listens on this port: Prometheus is unreachable for this service.
    offline = await startTestService({
      redisUrl: redis.url,
      prometheusUrl: `http://127.0.0.1:${await freePort()}`,
      playbooks: {
        'closed.yaml': guarded('guard-unreachable', `  - { name: prometheus-up, query: 'vector(1)' }`, fx, nx),
        'open.yaml': guarded('guard-unreachable-proceed', `  - { name: prometheus-up, query: 'vector(1)', onError: proceed }`, fx, nx),
      },
    });
  });

  after(async () => {
    await Promise.all([app.close(), offline.close()]);
    await Promise.all([redis.stop(), prometheus.stop(), dir.remove()]);
  });

  test('when every guard holds the steps run and each guard is recorded as passed with its result', async () => {
    const job = await runFor(app, 'GuardPasses');
    assert.equal(job.data.skip, undefined);
    assert.deepEqual(
      job.data.steps.map((step) => [step.name, step.status]),
      [['act', 'succeeded']],
    );
    assert.deepEqual(
      job.data.guards?.map((guard) => [guard.name, guard.status]),
      [
        ['prometheus-up', 'passed'],
        ['nothing-down', 'passed'],
      ],
    );
    assert.deepEqual(job.data.guards[0]?.result, [{ metric: {}, value: '1' }]);
    assert.ok((await effects()).includes(job.data.alert.labels.instance ?? ''));
  });

  test('a failed guard skips the run without retrying: the reason names the guard, its query and its result, and skipped: steps tell someone', async () => {
    const job = await runFor(app, 'GuardFails', { job: 'no-such-job' });
    const instance = job.data.alert.labels.instance ?? '';
    assert.equal(await app.service.queue.getJobState(job.id ?? ''), 'completed');
    assert.equal(job.attemptsMade, 1, 'one attempt: a skip is not retried');
    assert.equal(job.data.skip?.kind, 'guard');
    assert.match(job.data.skip.reason, /guard job-is-up failed: up\{job="no-such-job"\} == 1 returned \[\], expected a result/);
    assert.deepEqual(
      job.data.guards?.map((guard) => [guard.name, guard.status]),
      [
        ['prometheus-up', 'passed'],
        ['job-is-up', 'failed'],
      ],
    );
    assert.deepEqual(job.data.steps, [], 'no step ran');
    assert.ok(!(await effects()).includes(instance), 'no side effect');
    assert.deepEqual(
      job.data.skipSteps.map((step) => [step.name, step.status]),
      [['tell', 'succeeded']],
    );
    assert.ok((await notices()).includes(`${instance} ${job.data.skip.reason}`), 'the skipped: step ran and could tell why');
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /remediator_runs_skipped_total\{playbook="guard-fails",reason="guard"\} [1-9]/);
  });

  test('a label value cannot rewrite a guard query: it is escaped into the string literal and the guard still fails', async () => {
    const job = await runFor(app, 'GuardFails', { job: 'x"} or vector(1) or up{job="' });
    assert.equal(job.data.skip?.kind, 'guard');
    assert.equal(job.data.guards?.[1]?.query, 'up{job="x\\"} or vector(1) or up{job=\\""} == 1');
    assert.equal(job.data.guards[1].status, 'failed');
  });

  test('with Prometheus unreachable a guard fails closed: the run is skipped with the error as its reason', async () => {
    const job = await runFor(offline, 'GuardUnreachable');
    assert.equal(job.data.skip?.kind, 'guard');
    assert.match(job.data.skip.reason, /guard prometheus-up failed: vector\(1\) could not be evaluated \(.*unreachable/);
    assert.equal(job.data.guards?.[0]?.status, 'error');
    assert.deepEqual(job.data.steps, []);
  });

  test('with onError: proceed an unreachable Prometheus does not stop the run, and the guard is recorded as ignored', async () => {
    const job = await runFor(offline, 'GuardUnreachableProceed');
    assert.equal(job.data.skip, undefined);
    assert.equal(job.data.guards?.[0]?.status, 'error');
    assert.equal(job.data.guards[0].ignored, true);
    assert.deepEqual(
      job.data.steps.map((step) => step.status),
      ['succeeded'],
    );
  });

  test('the runs API shows the guards and the skip of a run', async () => {
    const job = await runFor(app, 'GuardFails', { job: 'absent' });
    const view = (await offlineView(app, job.id ?? '')) as { skip?: { kind: string }; guards?: unknown[] };
    assert.equal(view.skip?.kind, 'guard');
    assert.equal(view.guards?.length, 2);
  });
});

/** The run as /api/runs/:id shows it (this service has no admin password, so read the view the way the route builds it). */
async function offlineView(app: TestService, id: string): Promise<unknown> {
  const { toRunView } = await import('../../src/runs/run-view.js');
  const job = await app.service.queue.getJob(id);
  assert.ok(job);
  return toRunView(job, await job.getState());
}
