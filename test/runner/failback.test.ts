import assert from 'node:assert/strict';
import { lines } from '../helpers/lines.js';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitForIdleQueue } from '../helpers/queue-idle.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

interface Answer {
  runs: { jobId: string; phase: string; notBefore?: string }[];
  cancelledFailbacks: string[];
}

describe('failback: a playbook resolved: section with a grace delay', () => {
  let redis: TestRedis;
  let app: TestService;
  let dir: { path: string; remove: () => Promise<void> };
  const file = (name: string) => join(dir.path, name);

  before(async () => {
    redis = await startRedis();
    dir = await tempDir();
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: {
        'failover.yaml': `
name: failover
match: '{alertname="InstanceDown", role="primary"}'
target: '{{ labels.cluster }}'
steps:
  - name: fail-over
    action: exec
    with: { command: [sh, -c, 'echo "$1" >> "$2"', sh, '{{ alert.startsAt }}', '${file('failover')}'] }
resolved:
  delay: 1500ms
  steps:
    - name: fail-back
      action: exec
      with: { command: [sh, -c, 'echo "$1" >> "$2"', sh, '{{ alert.startsAt }}', '${file('failback')}'] }
`,
      },
    });
  });
  after(async () => {
    await app.close();
    await redis.stop();
    await dir.remove();
  });

  const alert = (status: 'firing' | 'resolved', startsAt: string, fingerprint: string) => ({
    status,
    labels: { alertname: 'InstanceDown', role: 'primary', cluster: 'cache', instance: fingerprint },
    startsAt,
    fingerprint,
  });

  test('resolving and firing again within the grace delay cancels the failback: nothing runs', async () => {
    const first = '2026-11-22T04:00:00.000Z';
    const second = '2026-11-22T04:00:30.000Z';
    await postWebhook(app.url, webhookBody([alert('firing', first, 'aaaaaaaaaaaaaaa1')]));
    await waitFor('the failover', async () => (await lines(file('failover'))).includes(first));
    const resolved = (await postWebhook(app.url, webhookBody([alert('resolved', first, 'aaaaaaaaaaaaaaa1')]))).body as Answer;
    const failback = resolved.runs[0];
    assert.ok(failback);
    assert.equal(failback.phase, 'failback');
    assert.ok(failback.notBefore, 'the answer says when the failback will run');
    const refired = (await postWebhook(app.url, webhookBody([alert('firing', second, 'aaaaaaaaaaaaaaa1')]))).body as Answer;
    assert.deepEqual(refired.cancelledFailbacks, [failback.jobId]);
    assert.equal(await app.service.queue.getJob(failback.jobId), undefined, 'the delayed failback job is gone');
    await waitFor('the second failover', async () => (await lines(file('failover'))).includes(second));
    // Nothing waits or is delayed any more: a failback that would still run later would be counted here.
    await waitForIdleQueue(app.service.queue);
    assert.deepEqual(await lines(file('failback')), []);
  });

  test('staying resolved past the grace delay runs the resolved: steps once, however often the resolution is redelivered', async () => {
    const startsAt = '2026-11-22T05:00:00.000Z';
    await postWebhook(app.url, webhookBody([alert('firing', startsAt, 'bbbbbbbbbbbbbbb2')]));
    const body = webhookBody([alert('resolved', startsAt, 'bbbbbbbbbbbbbbb2')]);
    const answers = await Promise.all([0, 1, 2].map(() => postWebhook(app.url, body)));
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [202, 202, 202],
    );
    assert.deepEqual(await lines(file('failback')), [], 'not before the delay');
    await waitFor('the failback', async () => (await lines(file('failback'))).includes(startsAt), 10_000);
    await postWebhook(app.url, body);
    // The redelivery was answered, so any run it queued is in Redis: once nothing waits or is delayed, it has run.
    await waitForIdleQueue(app.service.queue);
    assert.deepEqual(
      (await lines(file('failback'))).filter((line) => line === startsAt),
      [startsAt],
    );
  });

  test('a late redelivery of an older resolution does not fail back over a newer outage', async () => {
    const older = '2026-11-22T06:00:00.000Z';
    const newer = '2026-11-22T06:05:00.000Z';
    await postWebhook(app.url, webhookBody([alert('firing', older, 'ccccccccccccccc3')]));
    await postWebhook(app.url, webhookBody([alert('resolved', older, 'ccccccccccccccc3')]));
    await postWebhook(app.url, webhookBody([alert('firing', newer, 'ccccccccccccccc3')]));
    // Alertmanager retries the old resolved notification after the cancellation removed its job: the same bytes are
    // a redelivery and queue nothing.
    const retried = (await postWebhook(app.url, webhookBody([alert('resolved', older, 'ccccccccccccccc3')]))).body as {
      redelivered?: boolean;
    };
    assert.equal(retried.redelivered, true);
    // The HA peer's copy differs in its bytes (its own externalURL): it re-queues the failback, which must cancel itself.
    const late = (
      await postWebhook(app.url, webhookBody([alert('resolved', older, 'ccccccccccccccc3')], { externalURL: 'http://alertmanager-2.test' }))
    ).body as Answer;
    const jobId = late.runs[0]?.jobId ?? '';
    await waitFor('the late failback run to finish', async () => (await app.service.queue.getJob(jobId))?.finishedOn, 10_000);
    const job = await app.service.queue.getJob(jobId);
    assert.deepEqual(job?.returnvalue, {
      playbook: 'failover',
      target: 'cache',
      phase: 'failback',
      cancelled: true,
      dryRun: false,
      steps: [],
    });
    assert.deepEqual(
      (await lines(file('failback'))).filter((line) => line === older),
      [],
    );
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /remediator_runs_total\{playbook="failover",outcome="cancelled"\} 1/);
  });

  test('a resolved: section on an on: resolved playbook is a load error', async () => {
    const { parsePlaybookSources } = await import('../../src/playbooks/load-playbooks.js');
    const { createDefaultActions } = await import('../../src/actions/default-actions.js');
    const actions = createDefaultActions({ smtpUrl: undefined, smtpFrom: 'a@b', prometheusUrl: undefined, path: undefined });
    const result = parsePlaybookSources(
      [
        {
          file: 'x.yaml',
          text: `name: x\nmatch: '{a="b"}'\non: resolved\nsteps: [{ name: s, action: log, with: { message: m } }]\nresolved:\n  steps: [{ name: t, action: log, with: { message: m } }]\n`,
        },
      ],
      actions,
    );
    assert.equal(result.success, false);
    assert.match(JSON.stringify(result), /resolved: \(failback\) applies to on: firing playbooks/);
  });
});
