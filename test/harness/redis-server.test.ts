import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { startRedis } from '../../tools/harness/redis-server.js';
import { waitFor } from '../../tools/harness/wait.js';

describe('startRedis, the harness Redis starter', () => {
  test('a replica started with replicaOf and the password links to its primary and serves its writes', async (t) => {
    const password = 'pw with space';
    const primary = await startRedis({ password });
    t.after(() => primary.stop());
    const replica = await startRedis({ password, replicaOf: primary.port });
    t.after(() => replica.stop());
    assert.match(primary.url, /^redis:\/\/:pw%20with%20space@127\.0\.0\.1:\d+$/);
    await primary.client().set('harness:key', 'written on the primary');
    const reader = replica.client();
    await waitFor('the replica to serve the write', async () => (await reader.get('harness:key')) === 'written on the primary', 10_000);
    const info = await reader.info('replication');
    assert.match(info, /role:slave/);
    assert.match(info, /master_link_status:up/);
  });

  test('a crashed server resumes on the same port with its data (append-only file)', async (t) => {
    const redis = await startRedis();
    t.after(() => redis.stop());
    const client = redis.client();
    await client.set('harness:durable', 'kept');
    const firstProcess = redis.process();
    await redis.crash();
    assert.equal(firstProcess.running(), false);
    await redis.resume();
    assert.notEqual(redis.process(), firstProcess);
    assert.equal(await client.get('harness:durable'), 'kept');
  });

  test('a server that cannot start fails with its own output, and the temp dir it made is removed', async () => {
    let dir = '';
    await assert.rejects(
      startRedis({ args: ['--no-such-directive', 'yes'] }).then((redis) => {
        dir = redis.dir;
      }),
      (error: Error) =>
        /exited while waiting for redis-server \d+ to answer PING/.test(error.message) && /no-such-directive/i.test(error.message),
    );
    assert.equal(dir, '', 'it did not start');
  });

  test('stop closes its clients, stops the server and removes its temp dir; a second stop is harmless', async () => {
    const redis = await startRedis();
    const client = redis.client();
    await client.ping();
    await redis.stop();
    await redis.stop();
    assert.equal(redis.process().running(), false);
    await assert.rejects(access(redis.dir));
    assert.equal(client.status, 'end');
  });
});
