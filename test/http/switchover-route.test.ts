import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import type { RunData } from '../../src/core/run-data.js';
import { replication } from '../helpers/redis-failover.js';
import { runRemediator } from '../helpers/remediator-process.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';
import { startCacheCluster, type CacheCluster } from '../reconcile/redis-cluster.js';

const password = 'switch-pw-91fe';
const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;

describe('the switchover API on a real Redis cluster', () => {
  let cluster: CacheCluster;
  let app: TestService;

  before(async () => {
    cluster = await startCacheCluster();
    app = await startTestService({
      redisUrl: cluster.queue.url,
      playbooks: { 'note.yaml': 'name: note\nmatch: \'{alertname="X"}\'\nsteps:\n  - { name: n, action: log, with: { message: m } }\n' },
      inventory: cluster.inventory,
      settings: { adminPassword: password },
    });
  });

  after(async () => {
    await app.close();
    await cluster.stop();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${app.service.url ?? ''}${path}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      status: response.status,
      body: (await response.json()) as Record<string, unknown> & { error?: { code: string; message: string } },
    };
  };
  const finished = (jobId: string) =>
    waitFor(`run ${jobId} to end`, async () => {
      const job: Job<RunData> | undefined = await app.service.queue.getJob(jobId);
      return job?.finishedOn === undefined ? undefined : job;
    });
  const jobIdOf = (body: Record<string, unknown>) => (body.runs as { jobId: string }[] | undefined)?.[0]?.jobId ?? '';

  test('refuses an unknown cluster, an unknown member, a time more than 7 days ahead and an unknown key, each with its reason', async () => {
    const cases = [
      ['/api/clusters/nope/switchover', {}, 404, 'CLUSTER_NOT_FOUND'],
      ['/api/clusters/cache/switchover', { to: 'cache-z' }, 400, 'UNKNOWN_MEMBER'],
      ['/api/clusters/cache/switchover', { at: new Date(Date.now() + 8 * 86_400_000).toISOString() }, 400, 'INVALID_TIME'],
      ['/api/clusters/cache/switchover', { at: 'tomorrow' }, 400, 'INVALID_BODY'],
      ['/api/clusters/cache/switchover', { force: true }, 400, 'INVALID_BODY'],
    ] as const;
    for (const [path, body, status, code] of cases) {
      const answer = await call('POST', path, body);
      assert.deepEqual([answer.status, answer.body.error?.code], [status, code], JSON.stringify(answer.body));
    }
    const anonymous = await fetch(`${app.service.url ?? ''}/api/clusters/cache/switchover`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(anonymous.status, 401);
  });

  test('a switchover planned for later waits; a second request is refused while it waits; it can be withdrawn', async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const planned = await call('POST', '/api/clusters/cache/switchover', { at });
    assert.equal(planned.status, 202, JSON.stringify(planned.body));
    const jobId = jobIdOf(planned.body);
    const job = await app.service.queue.getJob(jobId);
    assert.equal(await job?.getState(), 'delayed');
    assert.deepEqual([job?.data.source, job?.data.startedBy, job?.data.playbook], ['manual', 'admin', 'remediator-switchover-redis']);
    const notBefore = Date.parse((planned.body.runs as { notBefore?: string }[])[0]?.notBefore ?? '');
    assert.ok(Math.abs(notBefore - Date.parse(at)) < 1000, `planned for ${at}, queued for ${new Date(notBefore).toISOString()}`);

    const again = await call('POST', '/api/clusters/cache/switchover', { to: 'cache-c' });
    assert.deepEqual([again.status, again.body.error?.code], [409, 'SWITCHOVER_PENDING']);
    assert.match(again.body.error?.message ?? '', new RegExp(jobId));

    const withdrawn = await call('DELETE', '/api/clusters/cache/switchover');
    assert.deepEqual([withdrawn.status, withdrawn.body.withdrawn], [200, jobId]);
    assert.equal(await app.service.queue.getJob(jobId), undefined);
    assert.equal((await call('DELETE', '/api/clusters/cache/switchover')).status, 404);
  });

  test('a switchover to a named member promotes it, even on a held cluster (a hold keeps automation away, not operators), and reports the write pause', async () => {
    assert.equal((await call('POST', '/api/holds', { target: 'cache', ttl: '10m', reason: 'patching cache-a' })).status, 201);
    const started = await call('POST', '/api/clusters/cache/switchover', { to: 'cache-c' });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const job = await finished(jobIdOf(started.body));
    assert.equal(await job.getState(), 'completed', JSON.stringify(job.data));
    assert.equal(job.data.skip, undefined, JSON.stringify(job.data.skip));
    const output = job.data.steps[0]?.output as { from?: string; to?: string; writePauseMs?: number };
    assert.deepEqual([output.from, output.to], ['cache-a', 'cache-c']);
    assert.equal(typeof output.writePauseMs, 'number');
    assert.equal((await replication(cluster.c.client())).get('role'), 'master');
    assert.equal((await replication(cluster.a.client())).get('role'), 'slave');
    assert.equal((await call('DELETE', '/api/holds/cache')).status, 200);

    // Done: a new request is not refused as pending. The CLI follows the run to its end.
    const back = runRemediator(['switchover', 'cache', '--to', 'cache-a', '--wait'], {
      REMEDIATOR_URL: app.service.url ?? '',
      ADMIN_PASSWORD: password,
    });
    const exit = await back.exited;
    assert.equal(exit.code, 0, back.output());
    assert.match(back.output(), /"state": "completed"/);
    assert.match(back.output(), /"writePauseMs": \d/);
    assert.equal((await replication(cluster.a.client())).get('role'), 'master');
  });

  test('the audit lists every switchover request, withdrawal and hold of these tests in order, with the user', async () => {
    const entries = (await call('GET', '/api/audit?limit=50')).body.entries as {
      action: string;
      outcome: string;
      user: string;
      target: string;
    }[];
    assert.deepEqual(
      entries.reverse().map((entry) => `${entry.user} ${entry.action} ${entry.target} ${entry.outcome}`),
      [
        'admin switchover cache enqueued',
        'admin switchover cache refused',
        'admin switchover-cancel cache withdrawn',
        'admin switchover-cancel cache none-pending',
        'admin hold cache held',
        'admin switchover cache enqueued',
        'admin unhold cache released',
        'admin switchover cache enqueued',
      ],
    );
  });
});
