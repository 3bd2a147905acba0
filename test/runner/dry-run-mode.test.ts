import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import type { RunData } from '../../src/core/run-data.js';
import { lines } from '../helpers/lines.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

describe('dry run per playbook (mode: dry-run) and under DRY_RUN: the same decisions, no side effects', () => {
  let redis: TestRedis;
  let dir: { path: string; remove: () => Promise<void> };
  let live: TestService;
  let dry: TestService;
  let log: string;

  async function runOn(app: TestService, alertname: string, instance: string): Promise<Job<RunData>> {
    const response = await postWebhook(
      app.url,
      webhookBody([{ labels: { alertname, instance }, fingerprint: randomBytes(8).toString('hex') }]),
    );
    assert.equal(response.status, 202);
    const id = (response.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    return waitFor(
      `run ${id}`,
      async () => ((await app.service.queue.getJobState(id)) === 'completed' ? app.service.queue.getJob(id) : undefined),
      20_000,
    );
  }
  const outcome = (job: Job<RunData>) => job.data.skip?.kind ?? job.data.steps.map((step) => step.status).join(',');

  before(async () => {
    [redis, dir] = await Promise.all([startRedis(), tempDir()]);
    log = join(dir.path, 'effects');
    const playbook = (name: string, alertname: string, mode: string) => `
name: ${name}
match: '{alertname="${alertname}"}'
target: '{{ labels.instance }}'
mode: ${mode}
budget: { maxRuns: 1, window: 1h }
steps:
  - { name: act, action: exec, with: { command: [sh, -c, 'echo "$1" >> "$2"', sh, '{{ labels.instance }}', '${log}'] } }
`;
    const playbooks = { 'rehearse.yaml': playbook('rehearse', 'Rehearse', 'dry-run'), 'real.yaml': playbook('real', 'Real', 'live') };
    // Two replicas of one queue: one receives with DRY_RUN, one without; their runs share the budgets' Redis.
    const queueName = `dry-${randomUUID()}`;
    live = await startTestService({ redisUrl: redis.url, playbooks, settings: { queueName } });
    dry = await startTestService({ redisUrl: redis.url, playbooks, settings: { queueName, dryRun: true } });
  });

  after(async () => {
    await Promise.all([live.close(), dry.close()]);
    await Promise.all([redis.stop(), dir.remove()]);
  });

  test('a mode: dry-run playbook records its steps as would-run with rendered parameters, runs nothing, and is budgeted like a live one', async () => {
    const first = await runOn(live, 'Rehearse', 'db-1');
    assert.equal(first.data.dryRun, true);
    assert.equal(outcome(first), 'would-run');
    assert.deepEqual((first.data.steps[0]?.params as { command: string[] }).command.slice(3, 5), ['sh', 'db-1']);
    const second = await runOn(live, 'Rehearse', 'db-1');
    assert.equal(outcome(second), 'max-runs', 'the second run in the window is refused, as a live one would be');
    assert.deepEqual(await lines(log), [], 'no side effect');
  });

  test('dry runs keep their own budget: rehearsing does not spend the live budget, and each refuses its own second run', async () => {
    const rehearsal = await runOn(dry, 'Real', 'db-2');
    assert.equal(outcome(rehearsal), 'would-run');
    const real = await runOn(live, 'Real', 'db-2');
    assert.equal(outcome(real), 'succeeded', 'the live run was not refused by the rehearsal');
    assert.deepEqual(await lines(log), ['db-2']);
    assert.equal(outcome(await runOn(live, 'Real', 'db-2')), 'max-runs');
    assert.equal(outcome(await runOn(dry, 'Real', 'db-2')), 'max-runs');
    assert.deepEqual(await lines(log), ['db-2'], 'still only the one live side effect');
  });
});
