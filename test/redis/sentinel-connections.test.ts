import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { splitAddress } from '../../src/inventory/inventory.js';
import { createRedisConnections, type RedisConnections } from '../../src/redis/redis-connections.js';
import { startSentinels, type TestSentinels } from '../helpers/redis-sentinel.js';
import { waitFor } from '../helpers/wait.js';

const name = 'connections-test';
const password = 'data-pass-7170';
const sentinelPassword = 'sentinel-pass-8180';
const commandTimeoutMs = 1000;

describe('createRedisConnections with sentinel options, through a graceful SENTINEL FAILOVER', () => {
  let trio: TestSentinels;
  let connections: RedisConnections;

  before(async () => {
    trio = await startSentinels({ replicas: 1, masterName: name, password, sentinelPassword });
    connections = createRedisConnections(
      { sentinels: trio.sentinels.map((address) => splitAddress(address)), name, password, sentinelPassword },
      { commandTimeoutMs, logger: pino({ level: 'silent' }) },
    );
  });

  after(async () => {
    connections.close();
    await trio.stop();
  });

  test('both connections reach the primary the sentinels name, and follow it to the promoted replica', async (t) => {
    await connections.ready(5000);
    assert.equal(connections.producer.status, 'ready');
    const oldPrimary = await trio.settled(1);
    await connections.producer.set('before', 'producer');
    await connections.worker.set('before:worker', 'worker');
    assert.equal(await trio.client(oldPrimary).get('before'), 'producer', 'the producer wrote to the primary');
    assert.equal(await trio.client(oldPrimary).get('before:worker'), 'worker', 'so did the worker connection');

    // A graceful failover: the old primary stays up and becomes a replica, so a client that stayed on it would
    // read stale data or get READONLY; the connections must move.
    const [sentinel = ''] = trio.sentinels;
    const startedAt = Date.now();
    await trio.client(sentinel).call('SENTINEL', ['FAILOVER', name]);

    // The producer fails fast while it moves (no offline queue, a command timeout): every try answers within
    // the timeout, as the webhook's 503 needs.
    let slowest = 0;
    let failures = 0;
    let misplaced = 0; // accepted by the old primary after the switch: lost when Sentinel demotes it
    const newPrimary = await waitFor(
      'a producer write that lands on the new primary',
      async () => {
        const reported = (await trio.client(sentinel).call('SENTINEL', ['get-master-addr-by-name', name])) as [string, string];
        const current = `${reported[0]}:${reported[1]}`;
        if (current === oldPrimary) return undefined;
        const triedAt = Date.now();
        try {
          await connections.producer.set('after', String(triedAt));
        } catch {
          failures += 1;
          return undefined;
        } finally {
          slowest = Math.max(slowest, Date.now() - triedAt);
        }
        if ((await trio.client(current).get('after')) === String(triedAt)) return current;
        misplaced += 1;
        return undefined;
      },
      30_000,
      100,
    );
    const movedAfterMs = Date.now() - startedAt;
    assert.notEqual(newPrimary, oldPrimary);
    assert.ok(slowest <= commandTimeoutMs + 500, `each producer try ended within the command timeout (slowest ${slowest} ms)`);
    // Without failoverDetector the connections stay on the old primary until Sentinel demotes it, 8 s or more
    // after the switch (it waits four hello periods), and every write in between is lost.
    assert.ok(
      movedAfterMs < 6000,
      `the producer moved within 6 s of SENTINEL FAILOVER (${movedAfterMs} ms, ${misplaced} writes to the old primary)`,
    );

    await connections.worker.set('after:worker', 'worker');
    assert.equal(await trio.client(newPrimary).get('after:worker'), 'worker', 'the worker connection moved too');
    // Sentinel demotes the old primary seconds after the switch: until then there are two primaries, and only
    // asking the sentinels (failoverDetector) moved the connections off the old one.
    const oldRole = ((await trio.client(oldPrimary).call('ROLE')) as unknown[])[0];
    t.diagnostic(
      `producer writing to ${newPrimary} ${movedAfterMs} ms after SENTINEL FAILOVER; ${failures} failed tries, ${misplaced} to the old primary, slowest ${slowest} ms; the old primary's role then: ${String(oldRole)}`,
    );
  });

  test('a URL still works as before', async () => {
    const [host, port] = (await trio.client(trio.sentinels[0] ?? '').call('SENTINEL', ['get-master-addr-by-name', name])) as [
      string,
      string,
    ];
    const primary = `${host}:${port}`;
    const byUrl = createRedisConnections(`redis://:${password}@${primary}`, { commandTimeoutMs, logger: pino({ level: 'silent' }) });
    try {
      await byUrl.ready(5000);
      assert.equal(await byUrl.producer.ping(), 'PONG');
      assert.equal(await byUrl.worker.ping(), 'PONG');
    } finally {
      byUrl.close();
    }
  });
});
