import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Job } from 'bullmq';
import type { RunData } from '../../src/core/run-data.js';
import { withTestService } from '../helpers/service-suite.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';
import { waitFor } from '../helpers/wait.js';

const password = 'operator-pw-4d1e';
const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;

/** One log step per InstanceDown alert, on the instance, with a cooldown to acknowledge. */
const notePlaybook = `
name: note
match: '{alertname="InstanceDown"}'
target: '{{ labels.instance }}'
budget: { cooldown: 1h }
steps:
  - { name: note, action: log, with: { message: 'down {{ labels.instance }}' } }
`;

describe('the operator API: holds, budget resets and the audit', () => {
  const suite = withTestService({ playbooks: { 'note.yaml': notePlaybook }, settings: { adminPassword: password } });

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${suite.app().url}${path}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  /** Posts InstanceDown for `instance` (a new episode each time) and waits for its run to finish. */
  const alert = async (instance: string): Promise<Job<RunData>> => {
    const startsAt = new Date(Date.now() + Math.floor(Math.random() * 1000)).toISOString();
    const posted = await postWebhook(suite.app().url, webhookBody([{ labels: { alertname: 'InstanceDown', instance }, startsAt }]));
    assert.equal(posted.status, 202);
    const jobId = (posted.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    return waitFor(`the run on ${instance}`, async () => {
      const job = await suite.app().service.queue.getJob(jobId);
      return job?.finishedOn === undefined ? undefined : job;
    });
  };

  test('a hold skips the runs on its target with its reason, is listed with who set it, and ends when released', async () => {
    const held = await call('POST', '/api/holds', { target: 'node-1', ttl: '1h', reason: 'kernel patching' });
    assert.equal(held.status, 201);
    assert.equal(held.body.by, 'admin');
    const listed = await call('GET', '/api/holds');
    assert.deepEqual(
      (listed.body.holds as { target: string; reason: string; by: string }[]).map(({ target, reason, by }) => [target, reason, by]),
      [['node-1', 'kernel patching', 'admin']],
    );
    const activeHolds = async () => {
      const text = await (await fetch(`${suite.app().url}/metrics`)).text();
      return Number(/^remediator_holds_active (\S+)$/m.exec(text)?.[1]);
    };
    assert.equal(await activeHolds(), 1, 'remediator_holds_active');
    const skipped = await alert('node-1');
    assert.equal(skipped.data.skip?.kind, 'hold');
    assert.match(skipped.data.skip.reason, /kernel patching/);

    assert.equal((await call('DELETE', '/api/holds/node-1')).status, 200);
    assert.equal((await call('DELETE', '/api/holds/node-1')).status, 404);
    assert.deepEqual((await call('GET', '/api/holds')).body.holds, []);
    assert.equal(await activeHolds(), 0);
    assert.equal((await alert('node-1')).data.skip, undefined, 'released: the next alert acts');
  });

  test('a hold is refused with the reasons when its ttl is missing, too long or not a duration', async () => {
    const refused = await call('POST', '/api/holds', { target: 'node-1', ttl: '8d', reason: 'x' });
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.body), /between 1 ms and 7d/);
    assert.equal((await call('POST', '/api/holds', { target: 'node-1', reason: 'x' })).status, 400);
    assert.equal((await call('POST', '/api/holds', { target: 'node-1', ttl: 'soon', reason: 'x' })).status, 400);
  });

  test('a budget reset lets the next alert act within the cooldown', async () => {
    assert.equal((await alert('node-2')).data.skip, undefined);
    assert.equal((await alert('node-2')).data.skip?.kind, 'cooldown');
    const reset = await call('POST', '/api/budgets/note/node-2/reset');
    assert.deepEqual(reset.body, { playbook: 'note', target: 'node-2', cleared: true });
    assert.equal((await alert('node-2')).data.skip, undefined);
  });

  test('a manual run goes through the intake as a firing alert of that playbook only, marked manual with who started it', async () => {
    const started = await call('POST', '/api/playbooks/note/run', { labels: { alertname: 'InstanceDown', instance: 'node-9' } });
    assert.equal(started.status, 202);
    const [run] = started.body.runs as { jobId: string; playbook: string }[];
    assert.ok(run);
    assert.equal(run.playbook, 'note');
    const job = await waitFor('the manual run', async () => {
      const found = await suite.app().service.queue.getJob(run.jobId);
      return found?.finishedOn === undefined ? undefined : found;
    });
    assert.deepEqual([job.data.source, job.data.startedBy, job.data.target, job.data.skip], ['manual', 'admin', 'node-9', undefined]);
    const view = await call('GET', `/api/runs/${encodeURIComponent(job.id ?? '')}`);
    assert.deepEqual([view.body.source, view.body.startedBy], ['manual', 'admin']);

    const mismatch = await call('POST', '/api/playbooks/note/run', { labels: { alertname: 'DiskFull' } });
    assert.deepEqual([mismatch.status, (mismatch.body.error as { code: string }).code], [400, 'LABELS_DO_NOT_MATCH']);
    assert.equal((await call('POST', '/api/playbooks/nope/run', { labels: { alertname: 'InstanceDown' } })).status, 404);
    assert.equal((await call('POST', '/api/playbooks/note/run', { labels: {} })).status, 400);
  });

  test('the audit lists every operator action, newest first, with the user and the outcome, and pages', async () => {
    assert.equal((await call('POST', '/api/pause')).status, 200);
    assert.equal((await call('POST', '/api/resume')).status, 200);
    const audit = await call('GET', '/api/audit');
    const entries = audit.body.entries as { action: string; user: string; target?: string; outcome: string }[];
    assert.deepEqual(
      entries.map(({ action, target, outcome, user }) => [action, target ?? '', outcome, user]),
      [
        ['resume', '', 'resumed', 'admin'],
        ['pause', '', 'paused', 'admin'],
        ['run', 'note', 'enqueued', 'admin'],
        ['budget-reset', 'node-2', 'cleared', 'admin'],
        ['unhold', 'node-1', 'not-held', 'admin'],
        ['unhold', 'node-1', 'released', 'admin'],
        ['hold', 'node-1', 'held', 'admin'],
      ],
    );
    const first = await call('GET', '/api/audit?limit=2');
    assert.equal((first.body.entries as unknown[]).length, 2);
    const next = await call('GET', `/api/audit?limit=2&before=${String(first.body.next)}`);
    assert.deepEqual(
      (next.body.entries as { action: string }[]).map((entry) => entry.action),
      ['run', 'budget-reset'],
    );
    assert.equal((await call('GET', '/api/audit?before=nonsense')).status, 400);
  });

  test('every route answers 401 without credentials', async () => {
    for (const [method, path] of [
      ['GET', '/api/holds'],
      ['POST', '/api/holds'],
      ['DELETE', '/api/holds/node-1'],
      ['POST', '/api/budgets/note/node-2/reset'],
      ['GET', '/api/audit'],
      ['POST', '/api/playbooks/note/run'],
    ] as const) {
      const response = await fetch(`${suite.app().url}${path}`, { method, headers: { 'content-type': 'application/json' } });
      assert.equal(response.status, 401, `${method} ${path}`);
    }
  });
});
