import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { RunView } from '../../src/runs/run-view.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const admin = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };

describe('RTO tracking: every run exports detection, dispatch, action and recovery, and breaches of its playbook rto:', () => {
  let redis: TestRedis;
  let app: TestService;

  /** Fires `alertname` as if Prometheus had started the alert `agoMs` ago; returns the finished run's view. */
  async function run(alertname: string, agoMs: number): Promise<RunView> {
    const startsAt = new Date(Date.now() - agoMs).toISOString();
    const response = await postWebhook(
      app.url,
      webhookBody([{ labels: { alertname, instance: `n-${randomBytes(4).toString('hex')}` }, startsAt }]),
    );
    assert.equal(response.status, 202);
    const id = (response.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    await waitFor(`run ${id} to finish`, async () => ['completed', 'failed'].includes(await app.service.queue.getJobState(id)), 20_000);
    return (await (await fetch(`${app.url}/api/runs/${id}`, { headers: admin })).json()) as RunView;
  }
  const metrics = async () => (await fetch(`${app.url}/metrics`)).text();
  const sample = (text: string, series: string) => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  before(async () => {
    redis = await startRedis();
    const playbook = (name: string, alertname: string, rto: string, command: string) => `
name: ${name}
match: '{alertname="${alertname}"}'
target: '{{ labels.instance }}'
rto: ${rto}
retry: { attempts: 1 }
steps:
  - { name: act, action: exec, with: { command: [sh, -c, '${command}'] } }
`;
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: {
        'fast.yaml': playbook('fast', 'Fast', '1h', 'sleep 0.2'),
        'slow.yaml': playbook('slow', 'Slow', '2s', 'true'),
        'broken.yaml': playbook('broken', 'Broken', '1m', 'exit 3'),
      },
      settings: { adminPassword: 'pw' },
    });
  });

  after(async () => {
    await app.close();
    await redis.stop();
  });

  test('a run within its RTO: the API shows each phase and no breach; the histograms and the objective gauge have it', async () => {
    const view = await run('Fast', 5000);
    const { detectionSeconds = 0, dispatchSeconds = 0, actionSeconds = 0, recoverySeconds = 0 } = view.durations;
    assert.ok(detectionSeconds >= 5 && detectionSeconds < 15, `detection ${detectionSeconds} s: the alert started 5 s before the webhook`);
    assert.ok(dispatchSeconds >= 0 && dispatchSeconds < 5, `dispatch ${dispatchSeconds} s`);
    assert.ok(actionSeconds >= 0.2, `action ${actionSeconds} s covers the 0.2 s step`);
    assert.ok(
      Math.abs(recoverySeconds - (detectionSeconds + dispatchSeconds + actionSeconds)) < 0.01,
      'recovery = detection + dispatch + action',
    );
    assert.deepEqual(view.rto, { objectiveSeconds: 3600, breached: false });
    const text = await metrics();
    assert.equal(sample(text, 'remediator_rto_objective_seconds{playbook="fast"}'), 3600);
    for (const phase of ['detection', 'dispatch', 'action', 'recovery']) {
      assert.equal(sample(text, `remediator_run_${phase}_seconds_count{playbook="fast",outcome="succeeded"}`), 1, phase);
    }
    assert.equal(sample(text, 'remediator_rto_breaches_total{playbook="fast"}'), 0, 'the breach series exists from start-up at 0');
  });

  test('a run that recovered later than its RTO counts as a breach', async () => {
    const view = await run('Slow', 10_000);
    assert.ok((view.durations.recoverySeconds ?? 0) > 10);
    assert.deepEqual(view.rto, { objectiveSeconds: 2, breached: true });
    assert.equal(sample(await metrics(), 'remediator_rto_breaches_total{playbook="slow"}'), 1);
  });

  test('a failed run recovers nothing: no recovery time, and with an rto: it is a breach', async () => {
    const view = await run('Broken', 1000);
    assert.equal(view.state, 'failed');
    assert.equal(view.durations.recoverySeconds, undefined);
    assert.ok(view.durations.actionSeconds !== undefined);
    assert.deepEqual(view.rto, { objectiveSeconds: 60, breached: true });
    const text = await metrics();
    assert.equal(sample(text, 'remediator_rto_breaches_total{playbook="broken"}'), 1);
    assert.equal(sample(text, 'remediator_run_recovery_seconds_count{playbook="broken",outcome="failed"}'), undefined);
    assert.equal(sample(text, 'remediator_run_action_seconds_count{playbook="broken",outcome="failed"}'), 1);
  });

  test('every series a playbook can produce exists from start-up at 0, so increase() counts its first event', async () => {
    const text = await metrics();
    for (const reason of ['guard', 'cooldown', 'blast-radius', 'approval-rejected'])
      assert.equal(sample(text, `remediator_runs_skipped_total{playbook="slow",reason="${reason}"}`), 0, reason);
    assert.equal(sample(text, 'remediator_runs_total{playbook="fast",outcome="cancelled"}'), 0);
    assert.equal(sample(text, 'remediator_runs_enqueued_total{playbook="broken"}'), 1);
  });

  test("/metrics carries BullMQ's own queue metrics next to remediator's", async () => {
    const text = await metrics();
    assert.ok(
      (sample(text, `bullmq_job_count{queue="${app.queueName}", state="completed"}`) ?? 0) >= 2,
      text
        .split('\n')
        .filter((line) => line.startsWith('bullmq'))
        .join('\n'),
    );
    assert.ok((sample(text, `bullmq_job_completed_total{queue="${app.queueName}"}`) ?? 0) >= 2);
    assert.ok((sample(text, `bullmq_job_failed_total{queue="${app.queueName}"}`) ?? 0) >= 1);
  });
});
