import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pingPeriodOf, replicaWitness, sentinelWitness } from '../../../src/actions/redis/witness.js';
import { parseInfo } from '../../../src/inventory/redis-info.js';

const primary = '10.0.0.16:6379';

/** INFO replication of a replica of `of` with the given fields. */
function info(fields: Record<string, string | number>, of = primary): Map<string, string> {
  const colon = of.lastIndexOf(':');
  const lines = Object.entries({ role: 'slave', master_host: of.slice(0, colon), master_port: of.slice(colon + 1), ...fields }).map(
    ([key, value]) => `${key}:${value}`,
  );
  return parseInfo(`# Replication\r\n${lines.join('\r\n')}\r\n`);
}

describe('a replica as a witness of its primary (INFO replication)', () => {
  test('a replica whose link is up and that heard from the primary within its ping period still sees it', () => {
    const witness = replicaWitness('cache-a', primary, info({ master_link_status: 'up', master_last_io_seconds_ago: 1 }), 1);
    assert.deepEqual([witness.follows, witness.lost, witness.lostForMs], [true, false, undefined]);
    assert.match(witness.detail, /last I\/O 1 s ago \(ping period 1 s\)/);
  });

  test('a replica whose link is up but that heard nothing for longer than the ping period lost a hung primary, for the overdue seconds less one', () => {
    const witness = replicaWitness('cache-a', primary, info({ master_link_status: 'up', master_last_io_seconds_ago: 4 }), 1);
    assert.deepEqual([witness.follows, witness.lost, witness.lostForMs], [true, true, 2000]);
    const atDefault = replicaWitness('cache-a', primary, info({ master_link_status: 'up', master_last_io_seconds_ago: 4 }), 10);
    assert.equal(atDefault.lost, false, 'with the default 10 s ping period 4 s of silence is normal');
  });

  test("a replica whose link is down lost the primary for its down time less the second of Redis's truncation", () => {
    const witness = replicaWitness('cache-a', primary, info({ master_link_status: 'down', master_link_down_since_seconds: 3 }), 10);
    assert.deepEqual([witness.lost, witness.lostForMs, witness.detail], [true, 2000, 'link down 3 s']);
    const justNow = replicaWitness('cache-a', primary, info({ master_link_status: 'down', master_link_down_since_seconds: 1 }), 10);
    assert.equal(justNow.lostForMs, 0, 'a reported 1 s may be a few milliseconds');
  });

  test('a replica that never connected to the primary has lost it without saying for how long', () => {
    const witness = replicaWitness('cache-a', primary, info({ master_link_status: 'down', master_link_down_since_seconds: -1 }), 10);
    assert.deepEqual([witness.lost, witness.lostForMs, witness.detail], [true, undefined, 'link down, never connected']);
  });

  test('a replica of another address, or a primary, is no witness', () => {
    const other = replicaWitness(
      'cache-a',
      primary,
      info({ master_link_status: 'down', master_link_down_since_seconds: 9 }, '10.0.0.2:6379'),
      10,
    );
    assert.deepEqual([other.follows, other.lost, other.detail], [false, false, 'follows 10.0.0.2:6379']);
    const master = replicaWitness('cache-a', primary, parseInfo('role:master\r\n'), 10);
    assert.deepEqual([master.follows, master.detail], [false, 'is a master']);
  });

  test('an IPv6 primary is matched in the inventory spelling, in brackets', () => {
    const witness = replicaWitness(
      'cache-a',
      '[fd00::1]:6379',
      info({ master_link_status: 'up', master_last_io_seconds_ago: 0 }, 'fd00::1:6379'),
      1,
    );
    assert.equal(witness.follows, true);
  });

  test('the ping period comes from CONFIG GET, and nothing usable in the reply gives none', () => {
    assert.equal(pingPeriodOf(['repl-ping-replica-period', '1']), 1);
    assert.equal(pingPeriodOf([]), undefined);
    assert.equal(pingPeriodOf(['repl-ping-replica-period', 'x']), undefined);
    assert.equal(pingPeriodOf('OK'), undefined);
  });
});

describe('a sentinel as a witness of its master (SENTINEL MASTER)', () => {
  const reply = (fields: Record<string, string | number>) =>
    Object.entries({ name: 'mymaster', ip: '10.0.0.16', port: 6379, 'down-after-milliseconds': 30000, ...fields }).flatMap(
      ([key, value]) => [key, String(value)],
    );

  test('a sentinel that had a valid PING reply within two ping periods still sees the master', () => {
    const witness = sentinelWitness('sentinel 1', primary, reply({ flags: 'master', 'last-ok-ping-reply': 1900 }));
    assert.deepEqual([witness.follows, witness.lost], [true, false]);
  });

  test('a sentinel with no valid reply for longer, or that flags the master down or disconnected, lost it for that time less a ping period', () => {
    const silent = sentinelWitness('sentinel 1', primary, reply({ flags: 'master', 'last-ok-ping-reply': 3500 }));
    assert.deepEqual([silent.lost, silent.lostForMs], [true, 2500]);
    const disconnected = sentinelWitness('sentinel 1', primary, reply({ flags: 'master,disconnected', 'last-ok-ping-reply': 600 }));
    assert.deepEqual([disconnected.lost, disconnected.lostForMs], [true, 0]);
    const down = sentinelWitness('sentinel 1', primary, reply({ flags: 'master,s_down,o_down', 'last-ok-ping-reply': 31000 }));
    assert.deepEqual([down.lost, down.lostForMs], [true, 30000]);
  });

  test('a sentinel whose down-after is under a second pings faster, so a shorter silence is a loss', () => {
    const witness = sentinelWitness(
      'sentinel 1',
      primary,
      reply({ flags: 'master', 'last-ok-ping-reply': 1200, 'down-after-milliseconds': 500 }),
    );
    assert.deepEqual([witness.lost, witness.lostForMs], [true, 700]);
  });

  test('a sentinel that monitors the master at another address is no witness', () => {
    const witness = sentinelWitness('sentinel 1', primary, reply({ ip: '10.0.0.1', flags: 'master,s_down' }));
    assert.deepEqual([witness.follows, witness.lost, witness.detail], [false, false, 'monitors 10.0.0.1:6379']);
  });
});
