import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runRemediator, startRemediatorProcess } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('remediator serve start-up', () => {
  let bad: { dir: string; remove: () => Promise<void> };

  before(async () => {
    bad = await writePlaybooks({
      'matcher.yaml': `
name: bad-matcher
match: '{alertname="InstanceDown", role=~"prim(ary"}'
steps:
  - name: note
    action: log
    with: { message: hi }
`,
      'typo.yaml': `
name: typo
match: '{alertname="InstanceDown"}'
stpes: []
`,
      'action.yaml': `
name: unknown-action
match: '{alertname="InstanceDown"}'
steps:
  - name: go
    action: redis.failovr
`,
    });
  });
  after(async () => {
    await bad.remove();
  });

  test('bad playbooks stop start-up with every error listed by file, line and path', async () => {
    const run = runRemediator(['serve'], { REMEDIATIONS_DIR: bad.dir, REDIS_URL: 'redis://127.0.0.1:1' });
    const { code } = await run.exited;
    assert.equal(code, 1);
    const output = run.output();
    assert.match(output, /4 problems in playbooks; refusing to start/);
    assert.match(output, /matcher\.yaml:3: match: .*invalid regex "prim\(ary"/);
    assert.match(output, /typo\.yaml:4: stpes: unknown key "stpes"/);
    assert.match(output, /typo\.yaml:\d+: steps: .*expected array/i);
    assert.match(output, /action\.yaml:6: steps\[0\]\.action: unknown action "redis\.failovr"/);
  });

  test('remediator validate reports the same problems and exits 1, and accepts the shipped playbooks', async () => {
    const failing = runRemediator(['validate', bad.dir], {});
    assert.equal((await failing.exited).code, 1);
    assert.match(failing.output(), /4 problems/);
    const shipped = runRemediator(['validate'], {});
    assert.equal((await shipped.exited).code, 0, shipped.output());
    assert.match(shipped.output(), /playbook\(s\) OK/);
  });

  test('an invalid environment stops start-up with exit code 2 and names each variable', async () => {
    const run = runRemediator(['serve'], { PORT: 'ninety', LOG_LEVEL: 'chatty' });
    assert.equal((await run.exited).code, 2);
    assert.match(run.output(), /PORT/);
    assert.match(run.output(), /LOG_LEVEL/);
  });

  test('without REDIS_URL and without a redis-server binary it says how to install one or set REDIS_URL', async () => {
    const empty = await tempDir();
    try {
      const run = runRemediator(['serve'], { PATH: empty.path, DATA_DIR: join(empty.path, 'data') });
      assert.equal((await run.exited).code, 3);
      assert.match(run.output(), /apt-get install --no-install-recommends redis-server/);
      assert.match(run.output(), /REDIS_URL=redis:\/\//);
    } finally {
      await empty.remove();
    }
  });

  test('without REDIS_URL it runs on an embedded redis-server under DATA_DIR and stops it on SIGTERM', async () => {
    const data = await tempDir();
    try {
      const serve = await startRemediatorProcess({ DATA_DIR: data.path });
      const state = JSON.parse(await readFile(join(data.path, 'redis', 'embedded.json'), 'utf8')) as { pid: number; port: number };
      assert.ok(Number.isInteger(state.port) && state.port > 0);
      assert.ok(isAlive(state.pid));
      await waitFor('readiness', async () => (await fetch(`${serve.url}/readyz`)).status === 200);
      const answer = await postWebhook(serve.url, webhookBody([{ labels: { alertname: 'InstanceDown', cluster: 'c', instance: 'i' } }]));
      assert.equal(answer.status, 202);
      await serve.stop(10_000);
      assert.equal((await serve.exited).code, 0);
      assert.equal(isAlive(state.pid), false, 'the embedded redis-server was stopped with remediator');
    } finally {
      await data.remove();
    }
  });
});
