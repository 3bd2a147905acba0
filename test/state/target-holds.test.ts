import assert from 'node:assert/strict';
import { lines } from '../helpers/lines.js';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

describe('holds: remediator.hold stops automatic remediation of a target', () => {
  let redis: TestRedis;
  let app: TestService;
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => {
    redis = await startRedis();
    dir = await tempDir();
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: {
        'lag.yaml': `
name: lag-hold
match: '{alertname="ReplicationLag"}'
target: 'hold/{{ labels.cluster }}'
steps:
  - name: hold-failover
    action: remediator.hold
    with: { target: '{{ labels.cluster }}', for: 10m, reason: 'replica {{ labels.instance }} is lagging' }
resolved:
  delay: 0s
  steps:
    - name: release
      action: remediator.hold
      with: { target: '{{ labels.cluster }}', release: true }
`,
        'failover.yaml': `
name: failover
match: '{alertname="InstanceDown"}'
target: '{{ labels.cluster }}'
steps:
  - name: act
    action: exec
    with: { command: [sh, -c, 'echo "$1" >> "$2"', sh, '{{ alert.startsAt }}', '${join(dir.path, 'failover')}'] }
`,
      },
    });
  });
  after(async () => {
    await app.close();
    await redis.stop();
    await dir.remove();
  });

  const run = async (body: Record<string, unknown>) => {
    const answer = await postWebhook(app.url, body);
    const jobId = (answer.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    await waitFor('the run to finish', async () => (await app.service.queue.getJob(jobId))?.finishedOn, 10_000);
    return app.service.queue.getJob(jobId);
  };

  test('while a replica lags, a failover of its cluster is skipped with the reason, and runs again once the lag resolves', async () => {
    const lag = {
      labels: { alertname: 'ReplicationLag', cluster: 'cache', instance: 'cache-c' },
      startsAt: '2026-11-22T07:00:00.000Z',
      fingerprint: '1111111111111111',
    };
    await run(webhookBody([lag]));
    const skipped = await run(
      webhookBody([
        { labels: { alertname: 'InstanceDown', cluster: 'cache' }, startsAt: '2026-11-22T07:01:00.000Z', fingerprint: '2222222222222222' },
      ]),
    );
    const result = skipped?.returnvalue as { skipped?: string; steps: unknown[] };
    assert.match(result.skipped ?? '', /target cache is held until .*: replica cache-c is lagging/);
    assert.deepEqual(result.steps, []);
    assert.deepEqual(await lines(join(dir.path, 'failover')), [], 'no failover while held');

    await run(webhookBody([{ ...lag, status: 'resolved' }]));
    await run(
      webhookBody([
        { labels: { alertname: 'InstanceDown', cluster: 'cache' }, startsAt: '2026-11-22T07:05:00.000Z', fingerprint: '2222222222222222' },
      ]),
    );
    assert.deepEqual(await lines(join(dir.path, 'failover')), ['2026-11-22T07:05:00.000Z']);
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /remediator_runs_total\{playbook="failover",outcome="skipped"\} 1/);
  });

  test('a hold on one cluster does not stop another', async () => {
    await run(
      webhookBody([
        {
          labels: { alertname: 'ReplicationLag', cluster: 'db', instance: 'db-2' },
          startsAt: '2026-11-22T08:00:00.000Z',
          fingerprint: '3333333333333333',
        },
      ]),
    );
    await run(
      webhookBody([
        { labels: { alertname: 'InstanceDown', cluster: 'web' }, startsAt: '2026-11-22T08:01:00.000Z', fingerprint: '4444444444444444' },
      ]),
    );
    assert.ok((await lines(join(dir.path, 'failover'))).includes('2026-11-22T08:01:00.000Z'));
  });
});
