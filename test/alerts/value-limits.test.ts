import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { alertFingerprint, webhookAlertSchema } from '../../src/alerts/webhook-schema.js';
import { errorCodes } from '../../src/core/errors/index.js';
import { runDataSchema } from '../../src/core/run-data.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const limits = { labelBytes: 4 * 1024, annotationBytes: 16 * 1024, alertBytes: 64 * 1024 };

describe('values over their limits through the webhook, stored in Redis', () => {
  let redis: TestRedis;
  let app: TestService;
  before(async () => {
    redis = await startRedis();
    app = await startTestService({
      redisUrl: redis.url,
      settings: { valueLimits: limits },
      playbooks: {
        'cut-step.yaml': `
name: cut-step
match: '{alertname="Cut"}'
target: 'fixed'
retry: { attempts: 3, backoff: 10ms }
steps:
  - name: notify
    action: log
    with: { message: '{{ labels.alertname }}: {{ annotations.description }}' }
  - name: act
    action: log
    with: { message: 'acting on {{ labels.instance }}' }
`,
        'cut-target.yaml': `
name: cut-target
match: '{alertname="Cut"}'
target: '{{ labels.instance }}'
steps:
  - name: act
    action: log
    with: { message: 'acting' }
`,
      },
    });
  });
  after(async () => {
    await app.close();
    await redis.stop();
  });

  test('the run keeps the cut values with their marker, the metric counts them, and a step or target using the cut label fails for good', async () => {
    const metric = async (kind: string) => {
      const values = (await app.service.metrics.alertValuesTruncated.get()).values;
      return values.find((value) => value.labels.kind === kind)?.value;
    };
    assert.equal(await metric('label'), 0, 'the series exist from start-up at 0');
    assert.equal(await metric('annotation'), 0);
    const instance = 'db-'.repeat(2000); // 6,000 bytes
    const description = '€'.repeat(10_000); // 30,000 bytes; 16 KiB is not a whole number of euros
    const body = webhookBody([{ labels: { alertname: 'Cut', instance }, annotations: { description } }]);
    const alerts = body.alerts as Record<string, unknown>[];
    delete alerts[0]?.fingerprint; // remediator computes it from the labels
    const response = await postWebhook(app.url, body);
    assert.equal(response.status, 202);
    const runs = (response.body as { runs: { jobId: string; playbook: string; fingerprint: string }[] }).runs;
    assert.deepEqual(runs.map((run) => run.playbook).sort(), ['cut-step', 'cut-target']);
    const original = alertFingerprint(
      webhookAlertSchema.parse({ status: 'firing', labels: { alertname: 'Cut', instance }, startsAt: '2026-11-22T03:00:00Z' }),
    );
    assert.ok(
      runs.every((run) => run.fingerprint === original),
      'the fingerprint comes from the labels as they came',
    );

    for (const run of runs) {
      const failedReason = await waitFor(
        `run ${run.playbook} to fail`,
        async () => {
          const job = await app.service.queue.getJob(run.jobId);
          return job?.finishedOn === undefined ? undefined : job.failedReason;
        },
        15_000,
      );
      const job = await app.service.queue.getJob(run.jobId);
      assert.ok(job);
      assert.equal(await job.getState(), 'failed', run.playbook);
      assert.equal(job.attemptsMade, 1, `${run.playbook}: a permanent failure is not retried`);
      const data = runDataSchema.parse(job.data);
      assert.equal(data.alert.labels.instance, `${instance.slice(0, 4096)}…[cut ${6000 - 4096} bytes]`);
      assert.equal(data.alert.annotations.description, `${'€'.repeat(5461)}…[cut ${30_000 - 5461 * 3} bytes]`);
      assert.deepEqual(data.alert.truncated, ['labels.instance', 'annotations.description']);
      if (run.playbook === 'cut-step') {
        assert.equal(
          failedReason,
          `${errorCodes.TEMPLATE_UNKNOWN_REFERENCE}: step act: {{ labels.instance }} was cut on intake (longer than its size limit): a cut value is never used in a template`,
        );
        assert.deepEqual(
          data.steps.map((step) => [step.name, step.status]),
          [
            ['notify', 'succeeded'],
            ['act', 'failed'],
          ],
          'the notification with the cut annotation ran',
        );
      } else {
        assert.equal(
          failedReason,
          `${errorCodes.TEMPLATE_UNKNOWN_REFERENCE}: target: {{ labels.instance }} was cut on intake (longer than its size limit): a cut value is never used in a template`,
        );
        assert.equal(data.target, null);
      }
    }
    assert.equal(await metric('label'), 1, 'one alert, counted once however many playbooks it matched');
    assert.equal(await metric('annotation'), 1);
    assert.equal(await metric('other'), 0);
  });
});
