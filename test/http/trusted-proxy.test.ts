import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorCodeOf, rawRequest } from '../helpers/raw-request.js';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { withTestService } from '../helpers/service-suite.js';

const proxy = '127.0.0.2';
const elsewhere = '127.0.0.1';

describe('a trusted proxy names the user in a header, believed only from the proxy addresses', () => {
  // No password at all: the proxy alone opens the admin surfaces.
  const suite = withTestService({
    playbooks: { 'note-down.yaml': noteDownPlaybook },
    settings: {
      trustedProxy: { userHeader: 'X-Forwarded-User', roleHeader: 'X-Forwarded-Role', defaultRole: 'viewer', proxies: [`${proxy}/32`] },
    },
  });
  const send = (method: string, path: string, from: string, headers: Record<string, string>) =>
    rawRequest(`${suite.app().url}${path}`, {
      method,
      headers: { ...headers, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
      localAddress: from,
    });
  const ignoredLines = () => suite.app().logs.filter((line) => String(line.msg).startsWith('ignored a trusted-proxy user header'));

  test('from the proxy address the named user acts with the named role, and the audit records that name', async () => {
    const answer = await send('POST', '/api/pause', proxy, { 'x-forwarded-user': 'sam@example.org', 'x-forwarded-role': 'operator' });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(
      (await send('POST', '/api/resume', proxy, { 'x-forwarded-user': 'sam@example.org', 'x-forwarded-role': 'operator' })).status,
      200,
    );
    const audit = await send('GET', '/api/audit', proxy, { 'x-forwarded-user': 'sam@example.org' });
    const entries = (audit.json as { entries: { user: string; action: string }[] }).entries;
    assert.deepEqual(
      entries.map(({ user, action }) => ({ user, action })),
      [
        { user: 'sam@example.org', action: 'resume' },
        { user: 'sam@example.org', action: 'pause' },
      ],
    );
  });

  test('without a role header the default role applies, and an unknown role is refused', async () => {
    assert.equal((await send('GET', '/api/runs', proxy, { 'x-forwarded-user': 'val' })).status, 200);
    const pause = await send('POST', '/api/pause', proxy, { 'x-forwarded-user': 'val' });
    assert.equal(pause.status, 403, pause.text);
    assert.match(pause.text, /needs the role operator or admin; val has the role viewer/);
    const unknown = await send('GET', '/api/runs', proxy, { 'x-forwarded-user': 'val', 'x-forwarded-role': 'root' });
    assert.equal(unknown.status, 403);
    assert.equal(errorCodeOf(unknown), 'FORBIDDEN');
  });

  test('from any other address the headers are ignored (401), and that is logged at most once per 10 s', async () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const answer = await send('POST', '/api/pause', elsewhere, { 'x-forwarded-user': 'mallory', 'x-forwarded-role': 'admin' });
      assert.equal(answer.status, 401, answer.text);
      assert.equal(errorCodeOf(answer), 'UNAUTHORIZED');
    }
    assert.equal(await suite.app().service.queue.isPaused(), false);
    assert.equal(ignoredLines().length, 1);
    assert.deepEqual({ client: ignoredLines()[0]?.client, level: ignoredLines()[0]?.level }, { client: elsewhere, level: 'warn' });
  });
});
