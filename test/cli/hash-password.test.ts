import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyPassword } from '../../src/users/password-hash.js';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { runRemediator, sourceCommand, startRemediatorProcess } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { basicAuth } from '../helpers/users.js';

/** `remediator hash-password` with `input` on its stdin: its exit code and output. */
function hashPasswordCli(input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const command = sourceCommand();
  const child = spawn(command.command, [...command.args, 'hash-password'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('remediator hash-password and USERS_FILE, end to end', () => {
  let redis: TestRedis;
  let dir: { path: string; remove: () => Promise<void> };
  let playbooks: { dir: string; remove: () => Promise<void> };

  before(async () => {
    [redis, dir, playbooks] = await Promise.all([startRedis(), tempDir(), writePlaybooks({ 'note-down.yaml': noteDownPlaybook })]);
  });
  after(async () => {
    await Promise.all([redis.stop(), dir.remove(), playbooks.remove()]);
  });

  test('the hash printed for a password line on stdin logs that user in to a running remediator, with the role of the file', async () => {
    const printed = await hashPasswordCli('s3cret words\n');
    assert.equal(printed.code, 0, printed.stderr);
    const hash = printed.stdout.trim();
    assert.match(hash, /^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    assert.ok(!printed.stdout.includes('s3cret'), 'the password is not echoed');
    assert.equal(await verifyPassword('s3cret words', hash), true);

    const usersFile = join(dir.path, 'users.yaml');
    await writeFile(usersFile, `users:\n  - name: rita\n    passwordHash: '${hash}'\n    role: viewer\n`);
    const serve = await startRemediatorProcess({
      REDIS_URL: redis.url,
      REMEDIATIONS_DIR: playbooks.dir,
      USERS_FILE: usersFile,
      LOG_LEVEL: 'warn',
    });
    try {
      const get = (authorization: string) => fetch(`${serve.url}/api/runs`, { headers: { authorization } });
      assert.equal((await get(basicAuth('rita', 's3cret words'))).status, 200);
      assert.equal((await get(basicAuth('rita', 's3cret word'))).status, 401);
      const pause = await fetch(`${serve.url}/api/pause`, {
        method: 'POST',
        headers: { authorization: basicAuth('rita', 's3cret words'), 'content-type': 'application/json' },
      });
      assert.equal(pause.status, 403);
    } finally {
      await serve.stop();
    }
  });

  test('no password line, or an empty one, is exit code 1 with a message, and no hash', async () => {
    for (const input of ['', '\n']) {
      const printed = await hashPasswordCli(input);
      assert.equal(printed.code, 1);
      assert.equal(printed.stdout, '');
      assert.match(printed.stderr, /reads the password as one line on stdin/);
    }
  });

  test('serve refuses to start on an invalid USERS_FILE and lists every problem with its line and path', async () => {
    const usersFile = join(dir.path, 'bad-users.yaml');
    await writeFile(usersFile, 'users:\n  - name: rita\n    passwordHash: hunter2\n    role: root\n');
    const run = runRemediator(['serve'], { REDIS_URL: redis.url, REMEDIATIONS_DIR: playbooks.dir, USERS_FILE: usersFile });
    assert.equal((await run.exited).code, 1, run.output());
    assert.match(run.output(), /2 problems in USERS_FILE; refusing to start/);
    assert.match(run.output(), /bad-users\.yaml:3: users\[0\]\.passwordHash: not a password hash/);
    assert.match(run.output(), /bad-users\.yaml:4: users\[0\]\.role: /);
  });
});
