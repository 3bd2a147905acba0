import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { findExecutable } from '../../src/redis/embedded-redis.js';
import { readEmbeddedRedisUrl } from '../../src/redis/embedded-redis-files.js';
import { isRunning } from '../../src/util/process-status.js';
import { startRemediatorProcess, type RemediatorProcess } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

interface State {
  pid: number;
  port: number;
}

const readState = async (data: string): Promise<State> => JSON.parse(await readFile(join(data, 'redis', 'embedded.json'), 'utf8')) as State;

const alert = (instance: string) => webhookBody([{ labels: { alertname: 'InstanceDown', instance } }]);

const jobIdOf = (answer: { body: unknown }) => (answer.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '';

describe('remediator serve on its embedded Redis', () => {
  let playbooks: { dir: string; remove: () => Promise<void> };
  const running: RemediatorProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const serve = async (data: string, args: string[] = []) => {
    const started = await startRemediatorProcess({ DATA_DIR: data, REMEDIATIONS_DIR: playbooks.dir, LOG_LEVEL: 'debug' }, args);
    running.push(started);
    return started;
  };
  const dataDir = async () => {
    const dir = await tempDir('remediator-serve-data-');
    cleanups.push(dir.remove);
    return dir.path;
  };

  before(async () => {
    playbooks = await writePlaybooks({
      'note.yaml': `
name: note
match: '{alertname="InstanceDown"}'
target: '{{ labels.instance }}'
steps:
  - { name: note, action: log, with: { message: 'down: {{ labels.instance }}' } }
`,
    });
  });
  after(async () => {
    await Promise.all(running.map((process_) => process_.stop()));
    // A server left running by a killed serve (or restarted for it) ends with the test.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await playbooks.remove();
  });

  test('the password is in no line of its output, also when a second serve adopts the server the first left running', async () => {
    const data = await dataDir();
    const first = await serve(data);
    await waitFor('readiness', async () => (await fetch(`${first.url}/readyz`)).status === 200);
    assert.equal((await postWebhook(first.url, alert('db-1'))).status, 202);
    const { pid } = await readState(data);
    cleanups.unshift(async () => {
      if (await isRunning(pid)) process.kill(pid, 'SIGKILL');
    });
    await first.kill();
    assert.ok(await isRunning(pid), 'redis-server outlives its killed remediator');

    const second = await serve(data);
    await waitFor('readiness', async () => (await fetch(`${second.url}/readyz`)).status === 200);
    assert.equal((await postWebhook(second.url, alert('db-2'))).status, 202);
    assert.equal((await readState(data)).pid, pid, 'the second serve adopted the server');
    await second.stop(10_000);
    assert.equal((await second.exited).code, 0);

    const password = (await readFile(join(data, 'redis', 'password'), 'utf8')).trim();
    assert.match(password, /^[0-9a-f]{64}$/);
    assert.match(second.output(), /adopting the embedded Redis/);
    for (const output of [first.output(), second.output()]) {
      assert.ok(output.length > 0);
      assert.ok(!output.includes(password), 'the password is not logged');
    }
  });

  test('a redis-server killed under serve is started again on its port: webhooks 202 again, /readyz 200, the restart counted, queued runs kept', async () => {
    const data = await dataDir();
    // No worker: the runs stay queued, so the test can find them after the restart.
    const server = await serve(data, ['--no-worker']);
    await waitFor('readiness', async () => (await fetch(`${server.url}/readyz`)).status === 200);
    const before = await postWebhook(server.url, alert('db-1'));
    assert.equal(before.status, 202);
    const killed = await readState(data);
    process.kill(killed.pid, 'SIGKILL');

    // 503 while it is down (Alertmanager retries), 202 once it is back; which of them the first post gets is timing.
    const after = await waitFor(
      'a webhook accepted again',
      async () => {
        const answer = await postWebhook(server.url, alert('db-2'));
        assert.ok(answer.status === 202 || answer.status === 503, `status ${answer.status}`);
        return answer.status === 202 ? answer : undefined;
      },
      30_000,
      100,
    );
    await waitFor('readiness again', async () => (await fetch(`${server.url}/readyz`)).status === 200, 15_000);
    const restarted = await readState(data);
    assert.notEqual(restarted.pid, killed.pid);
    assert.equal(restarted.port, killed.port, 'same port: the URL every client holds stays valid');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^remediator_embedded_redis_restarts_total 1$/m);
    assert.match(metrics, /^remediator_redis_up 1$/m);
    assert.match(server.output(), /the embedded Redis died: starting it again on the same port/);

    const connection = new Redis(await readEmbeddedRedisUrl(data), { maxRetriesPerRequest: null });
    const queue = new Queue('remediations', { connection });
    try {
      assert.equal(await (await queue.getJob(jobIdOf(before)))?.getState(), 'waiting', 'the run queued before the kill survived it (AOF)');
      assert.equal(await (await queue.getJob(jobIdOf(after)))?.getState(), 'waiting');
    } finally {
      await queue.close();
      connection.disconnect();
    }
    await server.stop(10_000);
    assert.equal((await server.exited).code, 0);
    assert.equal(await isRunning(restarted.pid), false, 'the restarted server is stopped with serve');
  });

  test('when the redis-server cannot be started again, serve gives up after its attempts and exits non-zero for its supervisor', async () => {
    const data = await dataDir();
    const tools = await dataDir();
    // First on PATH: a redis-server that refuses to start once the marker exists (a full disk, a broken package).
    const marker = join(tools, 'broken');
    await writeFile(
      join(tools, 'redis-server'),
      `#!/bin/sh\n[ -e '${marker}' ] && exit 1\nexec ${(await findExecutable('redis-server')) ?? 'redis-server'} "$@"\n`,
      { mode: 0o755 },
    );
    const server = await startRemediatorProcess(
      { DATA_DIR: data, REMEDIATIONS_DIR: playbooks.dir, PATH: `${tools}:${process.env.PATH ?? ''}`, SHUTDOWN_TIMEOUT: '1s' },
      ['--no-worker'],
    );
    running.push(server);
    const { pid } = await readState(data);
    await writeFile(marker, '');
    process.kill(pid, 'SIGKILL');
    await waitFor('serve to exit', () => !server.running(), 60_000, 100);
    assert.equal((await server.exited).code, 1);
    assert.match(server.output(), /the embedded Redis cannot be started again: giving up/);
  });
});
