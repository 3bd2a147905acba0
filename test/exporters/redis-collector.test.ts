import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { parseInfo } from '../../src/inventory/redis-info.js';
import { createRedisCollector } from '../../src/exporters/redis-collector.js';
import { freePort } from '../../src/util/free-port.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { inProcessExporter, series, valueOf, type ParsedSample } from './metrics-text.js';

const info = async (client: Redis) => parseInfo(await client.info('replication'));

describe('the exporter on a real Redis primary with two replicas', () => {
  let p: TestRedis;
  let a: TestRedis;
  let b: TestRedis;
  let scrape: () => Promise<ParsedSample[]>;

  before(async () => {
    p = await startRedis();
    [a, b] = await Promise.all([
      startRedis({ args: ['--replicaof', '127.0.0.1', String(p.port)] }),
      startRedis({ args: ['--replicaof', '127.0.0.1', String(p.port)] }),
    ]);
    scrape = inProcessExporter(
      `clusters:\n  cache:\n    kind: redis\n    members:\n${Object.entries({ 'cache-p': p, 'cache-a': a, 'cache-b': b })
        .map(([name, server]) => `      - { name: ${name}, address: 127.0.0.1:${server.port} }`)
        .join('\n')}\n`,
      { collectors: { redis: createRedisCollector() }, probeTimeoutMs: 1000 },
    );
    const primary = p.client();
    for (let i = 0; i < 100; i++) await primary.set(`key-${i}`, `value-${i}`);
    const replicas = [a.client(), b.client()];
    await waitFor('replicas to sync', async () => {
      const offset = (await info(primary)).get('master_repl_offset');
      const states = await Promise.all(replicas.map(info));
      return states.every((state) => state.get('master_link_status') === 'up' && state.get('slave_repl_offset') === offset);
    });
  });
  after(async () => {
    await Promise.all([p, a, b].map((server) => server.stop()));
  });

  test('a synced cluster reports every member up with its live role, replica links up and no lag', async () => {
    const samples = await scrape();
    assert.equal(valueOf(samples, 'remediator_member_up', { cluster: 'cache', instance: 'cache-p', role: 'primary', service: 'redis' }), 1);
    for (const replica of ['cache-a', 'cache-b']) {
      assert.equal(valueOf(samples, 'remediator_member_up', { instance: replica, role: 'replica' }), 1);
      assert.equal(valueOf(samples, 'remediator_replication_link_up', { cluster: 'cache', instance: replica, service: 'redis' }), 1);
      assert.ok(valueOf(samples, 'remediator_replication_lag_seconds', { instance: replica }) >= 0);
    }
    assert.deepEqual(series(samples, 'remediator_replication_link_up', { instance: 'cache-p' }), [], 'a primary has no replication link');
    assert.equal(series(samples, 'remediator_member_probe_duration_seconds').length, 3);
    assert.equal(valueOf(samples, 'remediator_cluster_primaries', { cluster: 'cache', service: 'redis' }), 1);
    // The primary pings its replicas every 10 s: an offset read between a ping and its arrival is a moment of lag.
    await waitFor('both replicas at lag 0', async () => {
      const now = await scrape();
      return ['cache-a', 'cache-b'].every((replica) => valueOf(now, 'remediator_replication_lag_bytes', { instance: replica }) === 0);
    });
    assert.deepEqual(series(await scrape(), 'remediator_replication_lag_bytes', { instance: 'cache-p' }), [], 'a primary has no lag');
  });

  test('a replica cut off from its primary while 1 MiB is written reports its link down and the bytes it misses', async () => {
    await a.client().call('REPLICAOF', '127.0.0.1', String(await freePort()));
    await p.client().set('big', 'x'.repeat(1024 * 1024));
    const samples = await waitFor('cache-a to lag', async () => {
      const now = await scrape();
      return valueOf(now, 'remediator_replication_lag_bytes', { instance: 'cache-a' }) > 0 ? now : undefined;
    });
    assert.ok(valueOf(samples, 'remediator_replication_lag_bytes', { instance: 'cache-a' }) >= 1024 * 1024);
    assert.equal(valueOf(samples, 'remediator_replication_link_up', { instance: 'cache-a' }), 0);
    assert.ok(valueOf(samples, 'remediator_replication_lag_seconds', { instance: 'cache-a' }) >= 0);
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'cache-a', role: 'replica' }), 1);
    await waitFor(
      'cache-b to stay in sync',
      async () => valueOf(await scrape(), 'remediator_replication_lag_bytes', { instance: 'cache-b' }) === 0,
    );
  });

  test('a crashed primary is reported down with its last known role, and the replicas are compared with each other', async () => {
    await p.crash();
    const samples = await scrape();
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'cache-p', role: 'primary', service: 'redis' }), 0);
    assert.deepEqual(series(samples, 'remediator_member_up', { instance: 'cache-p', role: 'unknown' }), []);
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'cache-b', role: 'replica' }), 1);
    assert.equal(
      valueOf(samples, 'remediator_cluster_primaries', { cluster: 'cache' }),
      0,
      'a down member never counts, whatever its last role',
    );
    // cache-b holds the 1 MiB cache-a missed: with the primary gone it is the freshest member.
    assert.equal(valueOf(samples, 'remediator_replication_lag_bytes', { instance: 'cache-b' }), 0);
    assert.ok(valueOf(samples, 'remediator_replication_lag_bytes', { instance: 'cache-a' }) >= 1024 * 1024);
    await waitFor(
      'cache-b to see its link down',
      async () => valueOf(await scrape(), 'remediator_replication_link_up', { instance: 'cache-b' }) === 0,
    );
  });

  test('a replica promoted to primary loses its replica series at the next scrape', async () => {
    assert.equal(valueOf(await scrape(), 'remediator_member_up', { instance: 'cache-b', role: 'replica' }), 1);
    await b.client().call('REPLICAOF', 'NO', 'ONE');
    const samples = await scrape();
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'cache-b', role: 'primary' }), 1);
    assert.deepEqual(series(samples, 'remediator_member_up', { instance: 'cache-b', role: 'replica' }), []);
    assert.deepEqual(series(samples, 'remediator_replication_link_up', { instance: 'cache-b' }), []);
    assert.deepEqual(series(samples, 'remediator_replication_lag_bytes', { instance: 'cache-b' }), []);
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'cache-p', role: 'primary' }), 0);
    assert.equal(valueOf(samples, 'remediator_cluster_primaries', { cluster: 'cache' }), 1);
  });

  test('a second member answering as a primary counts as one more primary until it follows the first again', async () => {
    await a.client().call('REPLICAOF', 'NO', 'ONE');
    assert.equal(valueOf(await scrape(), 'remediator_cluster_primaries', { cluster: 'cache', service: 'redis' }), 2);
    await a.client().call('REPLICAOF', '127.0.0.1', String(b.port));
    assert.equal(valueOf(await scrape(), 'remediator_cluster_primaries', { cluster: 'cache', service: 'redis' }), 1);
  });
});
