import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { permissions } from '../../src/http/permissions.js';
import type { Role } from '../../src/users/roles.js';
import { errorCodeOf, rawRequest } from '../helpers/raw-request.js';
import { withTestService } from '../helpers/service-suite.js';
import { basicAuth, usersOf } from '../helpers/users.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const people = [
  { name: 'vera', password: 'vera-pw-1', role: 'viewer' },
  { name: 'otto', password: 'otto-pw-2', role: 'operator' },
  { name: 'april', password: 'april-pw-3', role: 'approver' },
  { name: 'ada', password: 'ada-pw-4', role: 'admin' },
] as const;
const as = (role: Role) => {
  const person = people.find((candidate) => candidate.role === role) ?? people[0];
  return basicAuth(person.name, person.password);
};

const all: readonly Role[] = ['viewer', 'operator', 'approver', 'admin'];
const operators: readonly Role[] = ['operator', 'admin'];
const approvers: readonly Role[] = ['approver', 'admin'];
const admins: readonly Role[] = ['admin'];

/** A queue the board does not show: its actions are answered 404 when allowed, so the matrix changes nothing. */
const q = '/queues/api/queues/no-such-queue';

/** Every admin route and queue UI action, a concrete request for it, and the roles that get past authorization. */
const matrix: { method: string; path: string; route: string; allowed: readonly Role[] }[] = [
  { method: 'GET', path: '/api/runs', route: '/api/runs', allowed: all },
  { method: 'GET', path: '/api/runs/nope', route: '/api/runs/:id', allowed: all },
  { method: 'GET', path: '/api/pause', route: '/api/pause', allowed: all },
  { method: 'GET', path: '/api/holds', route: '/api/holds', allowed: all },
  { method: 'GET', path: '/api/audit', route: '/api/audit', allowed: all },
  { method: 'POST', path: '/api/runs/nope/approve', route: '/api/runs/:id/approve', allowed: approvers },
  { method: 'POST', path: '/api/runs/nope/reject', route: '/api/runs/:id/reject', allowed: approvers },
  { method: 'POST', path: '/api/runs/nope/retry', route: '/api/runs/:id/retry', allowed: operators },
  { method: 'POST', path: '/api/pause', route: '/api/pause', allowed: operators },
  { method: 'POST', path: '/api/resume', route: '/api/resume', allowed: operators },
  { method: 'POST', path: '/api/holds', route: '/api/holds', allowed: operators },
  { method: 'DELETE', path: '/api/holds/nope', route: '/api/holds/:target', allowed: operators },
  { method: 'POST', path: '/api/budgets/pb/nope/reset', route: '/api/budgets/:playbook/:target/reset', allowed: operators },
  { method: 'POST', path: '/api/playbooks/nope/run', route: '/api/playbooks/:name/run', allowed: operators },
  { method: 'POST', path: '/api/clusters/nope/switchover', route: '/api/clusters/:cluster/switchover', allowed: operators },
  { method: 'DELETE', path: '/api/clusters/nope/switchover', route: '/api/clusters/:cluster/switchover', allowed: operators },
  { method: 'PUT', path: '/queues/api/queues/pause', route: '/queues/api/queues/pause', allowed: operators },
  { method: 'PUT', path: '/queues/api/queues/resume', route: '/queues/api/queues/resume', allowed: operators },
  { method: 'PUT', path: `${q}/pause`, route: '/queues/api/queues/:queue/pause', allowed: operators },
  { method: 'PUT', path: `${q}/resume`, route: '/queues/api/queues/:queue/resume', allowed: operators },
  { method: 'PUT', path: `${q}/j1/retry`, route: '/queues/api/queues/:queue/:job/retry', allowed: operators },
  { method: 'PUT', path: `${q}/retry/failed`, route: '/queues/api/queues/:queue/retry/:status', allowed: operators },
  { method: 'PUT', path: `${q}/j1/promote`, route: '/queues/api/queues/:queue/:job/promote', allowed: ['operator', 'approver', 'admin'] },
  { method: 'PUT', path: `${q}/promote`, route: '/queues/api/queues/:queue/promote', allowed: operators },
  { method: 'PUT', path: `${q}/j1/clean`, route: '/queues/api/queues/:queue/:job/clean', allowed: admins },
  { method: 'PUT', path: `${q}/clean/completed`, route: '/queues/api/queues/:queue/clean/:status', allowed: admins },
  { method: 'PUT', path: `${q}/empty`, route: '/queues/api/queues/:queue/empty', allowed: admins },
  { method: 'PUT', path: `${q}/obliterate`, route: '/queues/api/queues/:queue/obliterate', allowed: admins },
  { method: 'POST', path: `${q}/add`, route: '/queues/api/queues/:queue/add', allowed: admins },
  { method: 'PATCH', path: `${q}/j1/update-data`, route: '/queues/api/queues/:queue/:job/update-data', allowed: admins },
  { method: 'PATCH', path: `${q}/j1/delay`, route: '/queues/api/queues/:queue/:job/delay', allowed: admins },
  { method: 'PATCH', path: `${q}/j1/priority`, route: '/queues/api/queues/:queue/:job/priority', allowed: admins },
  { method: 'PUT', path: `${q}/concurrency`, route: '/queues/api/queues/:queue/concurrency', allowed: admins },
  { method: 'PUT', path: `${q}/rate-limit`, route: '/queues/api/queues/:queue/rate-limit', allowed: admins },
  { method: 'PUT', path: `${q}/rate-limit/release`, route: '/queues/api/queues/:queue/rate-limit/release', allowed: admins },
  { method: 'PUT', path: `${q}/job-schedulers/s1/remove`, route: '/queues/api/queues/:queue/job-schedulers/:id/remove', allowed: admins },
  { method: 'PUT', path: `${q}/job-schedulers/s1/run`, route: '/queues/api/queues/:queue/job-schedulers/:id/run', allowed: admins },
  { method: 'PATCH', path: `${q}/job-schedulers/s1`, route: '/queues/api/queues/:queue/job-schedulers/:id', allowed: admins },
  {
    method: 'PUT',
    path: `${q}/j1/remove-unprocessed-children`,
    route: '/queues/api/queues/:queue/:job/remove-unprocessed-children',
    allowed: admins,
  },
  // Reads of the queue UI, and what no line of the table names: reads for everyone, changes for admins only.
  { method: 'GET', path: '/queues', route: '(the queue UI page)', allowed: all },
  { method: 'GET', path: '/queues/api/queues', route: '(the queue UI list)', allowed: all },
  { method: 'GET', path: `${q}/j1/logs`, route: '(a job log in the queue UI)', allowed: all },
  { method: 'PUT', path: `${q}/some-future-action`, route: '(an action no line names)', allowed: admins },
  // Express's own spellings reach the same handlers: a different case or a trailing slash is no way around the table.
  { method: 'POST', path: '/API/Pause/', route: '(/api/pause spelled otherwise)', allowed: operators },
];

const approvalPlaybook = `
name: needs-approval
match: '{alertname="NeedsApproval"}'
target: '{{ labels.instance }}'
approval: { timeout: 5m }
steps:
  - { name: act, action: exec, with: { command: ['true'] } }
`;

describe('roles: every admin route and queue UI action answers each role as the permission table says', async () => {
  const users = await usersOf(people);
  const suite = withTestService({ playbooks: { 'approve.yaml': approvalPlaybook }, settings: { adminPassword: 'simple-admin-pw', users } });
  const send = (method: string, path: string, authorization: string, from?: string) =>
    rawRequest(`${suite.app().url}${path}`, {
      method,
      headers: { authorization, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
      // A DELETE carries no body, as curl -X DELETE sends it.
      ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
      ...(from === undefined ? {} : { localAddress: from }),
    });
  /** Who made the newest audit entry of `action` on `target` (GET /api/audit lists the newest first). */
  const auditedUser = async (action: string, target?: string) =>
    (
      (await send('GET', '/api/audit?limit=500', as('admin'))).json as { entries: { user: string; action: string; target?: string }[] }
    ).entries.find((entry) => entry.action === action && entry.target === target)?.user;

  test('the matrix names every line of the permission table', () => {
    const named = new Set(matrix.map((row) => `${row.method} ${row.route}`));
    const missing = permissions.map((p) => `${p.method} ${p.path}`).filter((line) => !named.has(line));
    assert.deepEqual(missing, []);
  });

  for (const row of matrix)
    test(`${row.method} ${row.route} is allowed to ${row.allowed.join(', ')} and refused to the others with 403`, async () => {
      for (const role of all) {
        const answer = await send(row.method, row.path, as(role));
        if (row.allowed.includes(role)) {
          assert.ok(![401, 403].includes(answer.status), `${role}: ${answer.status} ${answer.text}`);
        } else {
          assert.equal(answer.status, 403, `${role}: ${answer.text}`);
          assert.equal(errorCodeOf(answer), 'FORBIDDEN');
          const { message } = (answer.json as { error: { message: string } }).error;
          assert.match(message, new RegExp(`needs the role ${row.allowed.join(' or ')}; \\w+ has the role ${role}`));
        }
      }
    });

  test('the simple admin (ADMIN_USER / ADMIN_PASSWORD) may do everything an admin may', async () => {
    for (const row of matrix) {
      const answer = await send(row.method, row.path, basicAuth('admin', 'simple-admin-pw'));
      assert.ok(![401, 403].includes(answer.status), `${row.method} ${row.path}: ${answer.status} ${answer.text}`);
    }
  });

  test('a wrong password is 401 for a known user, never 403, and a known user without the role 403, never 401', async () => {
    const wrong = await send('POST', '/api/pause', basicAuth('vera', 'not-hers'), '127.0.0.9');
    assert.equal(wrong.status, 401);
    const forbidden = await send('POST', '/api/pause', as('viewer'));
    assert.equal(forbidden.status, 403);
  });

  test('a viewer and an approver get the read-only queue UI, an operator and an admin the one with actions', async () => {
    for (const role of all) {
      const answer = await send('GET', '/queues/api/queues?activeQueue=x', as(role));
      assert.equal(answer.status, 200, answer.text);
      const queue = (answer.json as { queues: { name: string; readOnlyMode: boolean; allowRetries: boolean }[] }).queues[0];
      const readOnly = role === 'viewer' || role === 'approver';
      assert.deepEqual(
        { readOnlyMode: queue?.readOnlyMode, allowRetries: queue?.allowRetries },
        { readOnlyMode: readOnly, allowRetries: !readOnly },
      );
    }
  });

  test('pause, resume, holds and queue UI actions are recorded in the audit under the name of who made them', async () => {
    const target = `t-${randomBytes(3).toString('hex')}`;
    assert.equal((await send('POST', '/api/pause', as('operator'))).status, 200);
    assert.equal((await send('POST', '/api/resume', as('admin'))).status, 200);
    const hold = await rawRequest(`${suite.app().url}/api/holds`, {
      method: 'POST',
      headers: { authorization: as('operator'), 'content-type': 'application/json' },
      body: JSON.stringify({ target, ttl: '1h', reason: 'maintenance' }),
    });
    assert.equal(hold.status, 201, hold.text);
    assert.equal(await auditedUser('pause'), 'otto');
    assert.equal(await auditedUser('resume'), 'ada');
    assert.equal(await auditedUser('hold', target), 'otto');
    // The queue UI's actions too, however the path is spelled.
    const queue = encodeURIComponent(suite.app().queueName);
    assert.equal((await send('PUT', `/queues/API/queues/${queue}/pause`, as('operator'))).status, 200);
    assert.equal((await send('PUT', `/queues/api/queues/${queue}/resume`, as('admin'))).status, 200);
    assert.equal(await auditedUser('queue-ui', `${suite.app().queueName}/pause`), 'otto');
    assert.equal(await auditedUser('queue-ui', `${suite.app().queueName}/resume`), 'ada');
  });

  test("an approval records the approver's name in the run and in the audit; an operator's Promote of it is refused", async () => {
    const body = webhookBody([{ labels: { alertname: 'NeedsApproval', instance: `n-${randomBytes(4).toString('hex')}` } }]);
    const posted = await postWebhook(suite.app().url, body);
    const id = (posted.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';
    const queue = suite.app().service.queue;
    await waitFor(
      'the run to wait for approval',
      async () => ((await queue.getJob(id))?.data.approval?.state === 'pending' ? true : undefined),
      20_000,
    );
    const promote = `/queues/api/queues/${encodeURIComponent(suite.app().queueName)}/${encodeURIComponent(id)}/promote`;
    const refused = await send('PUT', promote, as('operator'));
    assert.equal(refused.status, 403, refused.text);
    assert.match(refused.text, /approving a run needs the role approver or admin; otto has the role operator/);
    // Spelled as express also routes it: no way around the check.
    const respelled = await send('PUT', `${promote.replace('/queues/api/', '/queues/API/')}/`, as('operator'));
    assert.equal(respelled.status, 403, respelled.text);
    const approved = await send('POST', `/api/runs/${encodeURIComponent(id)}/approve`, as('approver'));
    assert.equal(approved.status, 200, approved.text);
    assert.equal((approved.json as { by: string }).by, 'april');
    const decided = await waitFor(
      'the approved run to finish',
      async () => ((await queue.getJobState(id)) === 'completed' ? queue.getJob(id) : undefined),
      20_000,
    );
    assert.deepEqual({ state: decided.data.approval?.state, by: decided.data.approval?.by }, { state: 'approved', by: 'april' });
    assert.equal(await auditedUser('approve', id), 'april');
  });
});
