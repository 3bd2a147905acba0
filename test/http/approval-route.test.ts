import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import type { RunData } from '../../src/core/run-data.js';
import { linesFor } from '../helpers/lines.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { runAwaitingApproval } from '../helpers/run-awaiting-approval.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const admin = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` };

/** An exec step appending `{{ run.id }} <word>` to `file`. */
const append = (name: string, word: string, file: string) =>
  `{ name: ${name}, action: exec, with: { command: [sh, -c, 'echo "$1 $2" >> "$3"', sh, '{{ run.id }}', ${word}, '${file}'] } }`;

describe('approval: a run waits, holding no worker slot, until a person approves or rejects it', () => {
  let redis: TestRedis;
  let app: TestService;
  let dir: { path: string; remove: () => Promise<void> };
  let log: string;

  const effects = (runId: string) => linesFor(log, runId);

  async function trigger(alertname: string): Promise<string> {
    const response = await postWebhook(app.url, webhookBody([{ labels: { alertname, instance: `n-${randomBytes(4).toString('hex')}` } }]));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    return (response.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
  }
  const stateOf = (id: string) => app.service.queue.getJobState(id);
  const finished = (id: string) =>
    waitFor(
      `run ${id} to finish`,
      async () => (['completed', 'failed'].includes(await stateOf(id)) ? app.service.queue.getJob(id) : undefined),
      20_000,
    ) as Promise<Job<RunData>>;
  const pending = (id: string) => runAwaitingApproval(app, id);
  const decide = (id: string, verb: 'approve' | 'reject', body?: unknown, headers: Record<string, string> = admin) =>
    fetch(`${app.url}/api/runs/${id}/${verb}`, {
      method: 'POST',
      // An empty body, as curl -XPOST sends it, still declares JSON: admin changes must (see admin-write-guard.ts).
      headers: { ...headers, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  before(async () => {
    [redis, dir] = await Promise.all([startRedis(), tempDir()]);
    log = join(dir.path, 'effects');
    const playbook = (name: string, alertname: string, approval: string) => `
name: ${name}
match: '{alertname="${alertname}"}'
target: '{{ labels.instance }}'
retry: { attempts: 1 }
approval: ${approval}
steps:
  - ${append('act', 'acted', log)}
skipped:
  steps:
    - ${append('tell', 'told', log)}
`;
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: {
        'approve.yaml': playbook('needs-approval', 'NeedsApproval', `{ timeout: 1m, notify: [${append('ask', 'asked', log)}] }`),
        'abort.yaml': playbook('approval-abort', 'ApprovalAbort', '{ timeout: 1s, onTimeout: abort }'),
        // Its notification takes a while: the window in which a decision used to be missed until the deadline.
        'slow-notify.yaml': playbook(
          'slow-notify',
          'SlowNotify',
          `{ timeout: 1m, notify: [{ name: ask, action: exec, with: { command: [sh, -c, 'echo "$1 asking" >> "$2"; sleep 1.5', sh, '{{ run.id }}', '${log}'] } }] }`,
        ),
        'proceed.yaml': playbook('approval-proceed', 'ApprovalProceed', '{ timeout: 1s, onTimeout: proceed }'),
        // Sends approval links, on a service started without APPROVAL_LINK_KEY.
        'links.yaml': playbook(
          'links-without-key',
          'LinksWithoutKey',
          "{ timeout: 1m, linkUser: alice, notify: [{ name: ask, action: log, with: { message: 'approve: {{ approval.approveUrl }}' } }] }",
        ),
        'plain.yaml': `
name: plain
match: '{alertname="Plain"}'
target: '{{ labels.instance }}'
steps:
  - ${append('act', 'acted', log)}
`,
      },
      // One worker slot: a run waiting for approval must not take it.
      settings: { adminPassword: 'pw', concurrency: 1 },
    });
  });

  after(async () => {
    await app.close();
    await Promise.all([redis.stop(), dir.remove()]);
  });

  test('the run waits in the delayed set after notifying once, while other runs use the only worker slot', async () => {
    const id = await trigger('NeedsApproval');
    const job = await pending(id);
    assert.equal(job.data.steps.length, 0, 'nothing acted yet');
    assert.deepEqual(
      job.data.approval?.notifySteps.map((step) => [step.name, step.status]),
      [['ask', 'succeeded']],
    );
    const other = await trigger('Plain');
    assert.equal((await finished(other)).data.steps[0]?.status, 'succeeded', 'a run behind it completed on the single slot');
    assert.equal(await stateOf(id), 'delayed');
    assert.deepEqual(await effects(id), ['asked']);
    const view = (await (await fetch(`${app.url}/api/runs/${id}`, { headers: admin })).json()) as {
      approval?: { state: string; deadline: string };
    };
    assert.equal(view.approval?.state, 'pending');
    assert.ok(Date.parse(view.approval.deadline) > Date.now() + 30_000, 'the deadline is the playbook timeout away');
  });

  test('POST /approve records who approved and the run acts at once, long before its deadline', async () => {
    const id = await trigger('NeedsApproval');
    await pending(id);
    const response = await decide(id, 'approve', { comment: 'go' });
    assert.equal(response.status, 200);
    assert.deepEqual(
      { ...((await response.json()) as Record<string, unknown>), at: undefined },
      { id, decision: 'approved', by: 'admin', via: 'api', comment: 'go', at: undefined },
    );
    const job = await finished(id);
    assert.equal(job.data.approval?.state, 'approved');
    assert.equal(job.data.approval.by, 'admin');
    assert.equal(job.data.approval.via, 'api');
    assert.deepEqual(await effects(id), ['asked', 'acted']);
    const again = await decide(id, 'reject');
    assert.equal(again.status, 409);
    assert.equal(((await again.json()) as { error: { code: string } }).error.code, 'NOT_AWAITING_APPROVAL');
  });

  test('POST /reject skips the run with the decision as its reason; skipped: steps run, the action does not', async () => {
    const id = await trigger('NeedsApproval');
    await pending(id);
    assert.equal((await decide(id, 'reject', { comment: 'not during the match' })).status, 200);
    const job = await finished(id);
    assert.equal(await stateOf(id), 'completed');
    assert.equal(job.data.skip?.kind, 'approval-rejected');
    assert.equal(job.data.skip.reason, 'rejected by admin via api: not during the match');
    assert.deepEqual(await effects(id), ['asked', 'told']);
  });

  test('two decisions at once: exactly one stands and the other gets 409', async () => {
    const id = await trigger('NeedsApproval');
    await pending(id);
    const answers = await Promise.all([decide(id, 'approve'), decide(id, 'reject')]);
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 409]);
    const job = await finished(id);
    const winner = answers[0].status === 200 ? 'approved' : 'rejected';
    assert.equal(job.data.approval?.state, winner);
    assert.deepEqual(await effects(id), ['asked', winner === 'approved' ? 'acted' : 'told']);
  });

  test('nobody decided: onTimeout abort skips the run, onTimeout proceed runs it', async () => {
    const [abort, proceed] = await Promise.all([trigger('ApprovalAbort'), trigger('ApprovalProceed')]);
    const aborted = await finished(abort);
    assert.equal(aborted.data.skip?.kind, 'approval-timeout');
    assert.equal(aborted.data.approval?.state, 'timed-out');
    assert.deepEqual(await effects(abort), ['told']);
    const proceeded = await finished(proceed);
    assert.equal(proceeded.data.skip, undefined);
    assert.equal(proceeded.data.approval?.state, 'timed-out');
    assert.deepEqual(await effects(proceed), ['acted']);
  });

  test('promoting the waiting run in the queue UI approves it, recorded as the admin via the queue UI', async () => {
    const id = await trigger('NeedsApproval');
    await pending(id);
    const response = await fetch(`${app.url}/queues/api/queues/${encodeURIComponent(app.queueName)}/${id}/promote`, {
      method: 'PUT',
      headers: admin,
    });
    assert.equal(response.status, 204);
    const job = await finished(id);
    assert.equal(job.data.approval?.state, 'approved');
    assert.equal(job.data.approval.via, 'queue-ui');
    assert.deepEqual(await effects(id), ['asked', 'acted']);
  });

  test('approving while the approval notification is still being sent wakes the run at once, not at its deadline', async () => {
    const id = await trigger('SlowNotify');
    await waitFor('the notification to be under way', async () => (await effects(id)).includes('asking'), 10_000, 20);
    await waitFor(
      'the approval request to be recorded',
      async () => (await app.service.queue.getJob(id))?.data.approval?.state === 'pending',
      10_000,
      20,
    );
    assert.equal(await stateOf(id), 'active', 'the run is still sending its notification');
    assert.equal((await decide(id, 'approve')).status, 200);
    // The deadline is a minute away: finishing within seconds means the decision woke the run.
    const job = await waitFor(
      `run ${id} to finish`,
      async () => ((await stateOf(id)) === 'completed' ? app.service.queue.getJob(id) : undefined),
      10_000,
    );
    assert.equal(job.data.approval?.state, 'approved');
    assert.deepEqual(await effects(id), ['asking', 'acted']);
  });

  test('without APPROVAL_LINK_KEY a notification carrying links fails, the run still waits, the API decides, and /approve/ is not served', async () => {
    const id = await trigger('LinksWithoutKey');
    const job = await pending(id);
    const [ask] = job.data.approval?.notifySteps ?? [];
    assert.equal(ask?.status, 'failed');
    assert.match(ask.error?.message ?? '', /approval\.approveUrl/);
    assert.equal((await fetch(`${app.url}/approve/anything.${'A'.repeat(43)}`)).status, 404);
    assert.equal((await decide(id, 'approve')).status, 200);
    assert.equal((await finished(id)).data.approval?.by, 'admin');
    assert.deepEqual(await effects(id), ['acted']);
  });

  test('decisions need admin credentials, an existing run, and a run that waits for approval', async () => {
    const id = await trigger('NeedsApproval');
    await pending(id);
    assert.equal((await decide(id, 'approve', undefined, {})).status, 401);
    assert.equal(
      (await decide(id, 'approve', undefined, { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` })).status,
      401,
    );
    assert.equal(await stateOf(id), 'delayed', 'refused decisions change nothing');
    assert.equal((await decide('no-such-run', 'approve')).status, 404);
    const plain = await trigger('Plain');
    await finished(plain);
    assert.equal((await decide(plain, 'approve')).status, 409);
    assert.equal((await decide(id, 'approve', { unexpected: true })).status, 400);
    assert.equal((await decide(id, 'reject')).status, 200);
  });
});
