import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { defineAction, skipRun } from '../../src/core/action.js';
import { createActionRegistry } from '../../src/core/action-registry.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { runEnded } from '../helpers/run-end.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

/** Stands in for a failover action whose confirmation found the primary alive: it skips unless told `dead`. */
const confirming = defineAction({
  name: 'test.confirm-death',
  description: 'skips the run unless the primary is dead',
  schema: z.object({ dead: z.enum(['yes', 'no']) }),
  defaultTimeoutMs: 5000,
  run(params) {
    if (params.dead === 'no') {
      return Promise.reject(
        skipRun('primary-reachable-from-replicas', 'cache-b and cache-c still see cache-a', {
          observations: [{ member: 'cache-b', lost: false }],
        }),
      );
    }
    return Promise.resolve({ promoted: 'cache-b' });
  },
});

const playbook = `
name: confirmed-failover
match: '{alertname="PrimaryUnreachable"}'
target: '{{ labels.cluster }}'
retry: { attempts: 3, backoff: 100ms }
budget: { cooldown: 1h, maxRuns: 10, window: 1h }
steps:
  - name: promote
    action: test.confirm-death
    with: { dead: '{{ labels.dead }}' }
  - name: after-promote
    action: log
    with: { message: 'promoted' }
skipped:
  steps:
    - name: tell
      action: log
      with: { level: warn, message: 'not failing over: {{ run.skipReason }}' }
`;

describe('a step that decides its run must not act (skipRun), through webhook → queue → worker', () => {
  let redis: TestRedis;
  let app: TestService;
  before(async () => {
    redis = await startRedis();
    const defaults = createDefaultActions({
      smtpUrl: undefined,
      smtpFrom: 'remediator@test',
      prometheusUrl: undefined,
      path: process.env.PATH,
    });
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'confirmed-failover.yaml': playbook },
      actions: createActionRegistry([...defaults.values(), confirming]),
    });
  });
  after(async () => {
    await app.close();
    await redis.stop();
  });

  const runFor = async (dead: 'yes' | 'no', cluster: string) => {
    const response = await postWebhook(app.url, webhookBody([{ labels: { alertname: 'PrimaryUnreachable', cluster, dead } }]));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    return runEnded(app, (response.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '');
  };

  test('the run ends skipped with the step’s kind and reason, in one attempt; the steps after it do not run and skipped: steps tell why', async () => {
    const job = await runFor('no', `cache-${randomBytes(3).toString('hex')}`);
    assert.equal(await app.service.queue.getJobState(job.id ?? ''), 'completed');
    assert.equal(job.attemptsMade, 1, 'a skip is not retried');
    assert.equal(job.data.skip?.kind, 'primary-reachable-from-replicas');
    assert.equal(job.data.skip.reason, 'cache-b and cache-c still see cache-a');
    assert.deepEqual(
      job.data.steps.map((step) => [step.name, step.status]),
      [['promote', 'skipped']],
    );
    assert.deepEqual(job.data.steps[0]?.output, { observations: [{ member: 'cache-b', lost: false }] }, 'the observations are recorded');
    assert.deepEqual(
      job.data.skipSteps.map((step) => [step.name, step.status]),
      [['tell', 'succeeded']],
    );
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /remediator_runs_skipped_total\{playbook="confirmed-failover",reason="primary-reachable-from-replicas"\} 1/);
    assert.match(metrics, /remediator_runs_total\{playbook="confirmed-failover",outcome="skipped"\} 1/);
  });

  test('a skipped run starts no cooldown: the failover that a confirmed death needs next on the same target runs at once', async () => {
    const cluster = `cache-${randomBytes(3).toString('hex')}`;
    const skipped = await runFor('no', cluster);
    assert.equal(skipped.data.skip?.kind, 'primary-reachable-from-replicas');
    const next = await runFor('yes', cluster);
    assert.equal(next.data.skip, undefined, JSON.stringify(next.data.skip));
    assert.deepEqual(
      next.data.steps.map((step) => [step.name, step.status]),
      [
        ['promote', 'succeeded'],
        ['after-promote', 'succeeded'],
      ],
    );
  });
});
