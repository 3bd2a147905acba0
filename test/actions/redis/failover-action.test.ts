import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { createPrimaryRecord } from '../../../src/state/primary-record.js';
import { createRedisFailoverAction } from '../../../src/actions/redis/failover-action.js';
import { infoNumber } from '../../../src/inventory/redis-info.js';
import { errorCodes } from '../../../src/core/errors/index.js';
import { freePort } from '../../../src/util/free-port.js';
import { appError } from '../../helpers/action-run.js';
import { redisInventoryOf, replication, runFailover, synced } from '../../helpers/redis-failover.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait.js';

/** Waits until `replica` says its link to its primary has been down for `seconds` (INFO master_link_down_since_seconds). */
async function linkDownFor(replica: Redis, seconds: number): Promise<void> {
  await waitFor(
    `the replica's link to be down for ${seconds} s`,
    async () => infoNumber(await replication(replica), 'master_link_down_since_seconds') >= seconds,
    10_000,
    100,
  );
}

describe('redis.failover against real redis-server processes', () => {
  const servers: TestRedis[] = [];
  const start = async (args: string[] = []) => {
    const server = await startRedis({ args });
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  async function trio() {
    const p = await start();
    const a = await start(['--replicaof', '127.0.0.1', String(p.port)]);
    const b = await start(['--replicaof', '127.0.0.1', String(p.port)]);
    const clients = { p: p.client(), a: a.client(), b: b.client() };
    for (let i = 0; i < 100; i++) await clients.p.set(`key-${i}`, `value-${i}`);
    await synced(clients.p, [clients.a, clients.b]);
    return { p, a, b, clients };
  }

  test('after the primary is killed the best replica is promoted, the other follows it, writes succeed, and a revived old primary is fenced', async () => {
    const { p, a, b, clients } = await trio();
    const state = await start();
    const action = createRedisFailoverAction({
      inventory: redisInventoryOf({ 'cache-p': { redis: p }, 'cache-a': { redis: a }, 'cache-b': { redis: b, priority: 10 } }),
      record: createPrimaryRecord(state.client()),
    });

    await p.crash();
    const result = await runFailover(action, {});
    assert.equal(result.primary, 'cache-b', 'equally fresh replicas: the higher priority wins');
    assert.deepEqual([result.changed, result.promoted, result.repointed, result.unreachable], [true, true, ['cache-a'], ['cache-p']]);
    assert.equal((await replication(clients.b)).get('role'), 'master');
    const follower = await replication(clients.a);
    assert.deepEqual(
      [follower.get('role'), follower.get('master_port'), follower.get('master_link_status')],
      ['slave', String(b.port), 'up'],
    );
    assert.equal(await clients.b.set('after-failover', 'yes'), 'OK');
    assert.equal(await clients.b.get('key-99'), 'value-99', 'no data was lost');
    await assert.rejects(clients.a.set('x', 'y'), /READONLY/);
    await waitFor('the write to reach the follower', async () => (await clients.a.get('after-failover')) === 'yes');

    const again = await runFailover(action, {});
    assert.deepEqual(
      [again.primary, again.changed, again.fenced, again.repointed],
      ['cache-b', false, [], []],
      'a second run changes nothing',
    );

    await p.resume(); // comes back from its own data, believing it is still the primary
    assert.equal((await replication(clients.p)).get('role'), 'master');
    const fencing = await runFailover(action, {});
    assert.deepEqual([fencing.primary, fencing.fenced, fencing.promoted], ['cache-b', ['cache-p'], false]);
    const old = await replication(clients.p);
    assert.deepEqual([old.get('role'), old.get('master_port')], ['slave', String(b.port)]);
    await assert.rejects(clients.p.set('split', 'brain'), /READONLY/, 'the old primary refuses writes');
    assert.equal(await state.client().hget('remediator:primaries', 'cache'), 'cache-b');
  });

  test('promote: false (fence only) never promotes: with no primary reachable it changes nothing, and a returned old primary is still fenced', async () => {
    const { p, a, b, clients } = await trio();
    const state = await start();
    const action = createRedisFailoverAction({
      inventory: redisInventoryOf({ 'cache-p': { redis: p }, 'cache-a': { redis: a }, 'cache-b': { redis: b } }),
      record: createPrimaryRecord(state.client()),
    });
    await p.crash();
    const untouched = await runFailover(action, { promote: false });
    assert.deepEqual([untouched.changed, untouched.promoted, untouched.primary], [false, false, null]);
    assert.deepEqual(
      [(await replication(clients.a)).get('role'), (await replication(clients.b)).get('role')],
      ['slave', 'slave'],
      'no replica was promoted',
    );

    const promoted = await runFailover(action, {});
    assert.equal(promoted.promoted, true);
    await p.resume();
    const fencing = await runFailover(action, { promote: false });
    assert.deepEqual([fencing.primary, fencing.fenced, fencing.promoted], [promoted.primary, ['cache-p'], false]);
  });

  test('a replica past the byte-lag bound is not promoted even with the higher priority', async () => {
    const { p, a, b, clients } = await trio();
    const action = createRedisFailoverAction({
      inventory: redisInventoryOf({ 'cache-p': { redis: p }, 'cache-a': { redis: a }, 'cache-b': { redis: b, priority: 10 } }),
    });
    // b stops replicating (its primary address now leads nowhere) while the primary takes 2 MiB more writes.
    await clients.b.call('REPLICAOF', '127.0.0.1', String(await freePort()));
    const chunk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 32; i++) await clients.p.set(`big-${i}`, chunk);
    await synced(clients.p, [clients.a]);
    await p.crash();

    const result = await runFailover(action, { maxLagBytes: 1024 * 1024 });
    assert.equal(result.primary, 'cache-a');
    assert.deepEqual(result.repointed, ['cache-b']);
    const lagging = await replication(clients.b);
    assert.deepEqual(
      [lagging.get('role'), lagging.get('master_port')],
      ['slave', String(a.port)],
      'the lagging replica now follows the fresh one',
    );
    await waitFor('the lagging replica to resync', async () => (await clients.b.get('big-31')) === chunk);
  });

  test('when only a stale replica is left the run fails with a clear reason and promotes nothing', async () => {
    const { p, a, b, clients } = await trio();
    const action = createRedisFailoverAction({
      inventory: redisInventoryOf({ 'cache-p': { redis: p }, 'cache-a': { redis: a }, 'cache-b': { redis: b } }),
    });
    await clients.b.call('REPLICAOF', '127.0.0.1', String(await freePort()));
    await clients.p.set('written-after-b-left', '1');
    await linkDownFor(clients.b, 2); // past maxStaleness (1 s) in cache-b's own whole seconds
    await a.crash();
    await p.crash();
    const failedAt = new Date().toISOString(); // a lone replica can only be judged against a known failure time
    await assert.rejects(
      runFailover(action, { maxStaleness: '1s', failedAt }),
      appError(errorCodes.STEP_PERMANENT, /no replica is safe to promote/, /cache-b lost its primary \d+ s before the failure \(max 1 s\)/),
    );
    assert.equal((await replication(clients.b)).get('role'), 'slave', 'nothing was promoted');
  });

  test('without failedAt, a replica that lost its primary long before the other one is stale, measured against the replicas themselves', async () => {
    const { p, a, b, clients } = await trio();
    const action = createRedisFailoverAction({
      inventory: redisInventoryOf({ 'cache-p': { redis: p }, 'cache-a': { redis: a }, 'cache-b': { redis: b, priority: 10 } }),
    });
    await clients.b.call('REPLICAOF', '127.0.0.1', String(await freePort()));
    // More than maxStaleness (1 s) before cache-a loses its link, each counted by its server in whole seconds.
    await linkDownFor(clients.b, 3);
    await p.crash();
    // The alert's startsAt comes long after the failure (Prometheus waits for the rule's for:); it must not matter.
    const result = await runFailover(
      action,
      { maxStaleness: '1s', maxLagBytes: 1024 * 1024 * 1024 },
      new Date(Date.now() + 30_000).toISOString(),
    );
    assert.equal(result.primary, 'cache-a', 'the fresh replica wins although cache-b has the higher priority');
  });

  test('with every member down the run fails transient so it is retried', async () => {
    const { p, a, b } = await trio();
    const action = createRedisFailoverAction({
      inventory: redisInventoryOf({ 'cache-p': { redis: p }, 'cache-a': { redis: a }, 'cache-b': { redis: b } }),
    });
    await Promise.all([p.crash(), a.crash(), b.crash()]);
    await assert.rejects(runFailover(action, {}), appError(errorCodes.STEP_FAILED, /no member of cache is reachable/));
  });
});
