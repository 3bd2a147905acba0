import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silenceLimitMs, silentWitness, witnessOf, type WalReceiverReport } from '../../../src/actions/postgres/witness.js';
import { synchronousStandbyNames } from '../../../src/actions/postgres/protect.js';

const streaming = (silentMs: number | null, walReceiverTimeoutMs = 2000): WalReceiverReport => ({
  inRecovery: true,
  status: 'streaming',
  senderHost: '10.0.0.1',
  senderPort: 5432,
  silentMs,
  walReceiverTimeoutMs,
});
const noReceiver: WalReceiverReport = { ...streaming(null), status: null, senderHost: null, senderPort: null };

describe('a PostgreSQL standby as a witness of its primary', () => {
  test('a live primary is heard from at least every wal_receiver_timeout/2: silence up to that plus 1 s is not a loss', () => {
    assert.equal(silenceLimitMs(60_000), 31_000);
    assert.equal(silenceLimitMs(2000), 2000);
    assert.deepEqual(witnessOf('pg-b', streaming(1999.6), true), {
      member: 'pg-b',
      answered: true,
      follows: true,
      lost: false,
      detail: 'streaming, last message 2000 ms ago',
    });
  });

  test('a streaming receiver silent beyond the limit has lost the primary for as long as it has been silent', () => {
    assert.deepEqual(witnessOf('pg-b', streaming(2500), true), {
      member: 'pg-b',
      answered: true,
      follows: true,
      lost: true,
      lostForMs: 2500,
      detail: 'streaming but silent: last message 2500 ms ago (limit 2000 ms)',
    });
  });

  test('no WAL receiver (killed primary, receiver restarting, never connected) is a loss; its duration only from an earlier round', () => {
    assert.deepEqual(witnessOf('pg-b', noReceiver, true), {
      member: 'pg-b',
      answered: true,
      follows: true,
      lost: true,
      detail: 'no WAL receiver',
    });
    const gaveUp = witnessOf('pg-b', noReceiver, true, 3100.2);
    assert.equal(gaveUp.lost, true);
    assert.equal(gaveUp.lostForMs, 3100, 'a receiver that timed out keeps the silence an earlier round saw');
    assert.equal(gaveUp.detail, 'no WAL receiver, last message 3100 ms ago');
  });

  test('a receiver that is not streaming (waiting after the end of the WAL, stopping) is a loss since its last message', () => {
    const waiting = witnessOf('pg-b', { ...streaming(800), status: 'waiting' }, true);
    assert.deepEqual([waiting.lost, waiting.lostForMs, waiting.detail], [true, 800, 'WAL receiver waiting, last message 800 ms ago']);
  });

  test('without wal_receiver_timeout the receiver never pings: silence proves nothing, the primary counts as seen while streaming', () => {
    const witness = witnessOf('pg-b', streaming(600_000, 0), true);
    assert.equal(witness.lost, false);
    assert.match(witness.detail, /wal_receiver_timeout 0: silence not judged/);
    assert.equal(silenceLimitMs(0), undefined);
  });

  test('a member that is a primary itself, or replicates from another server, witnesses nothing; one that does not answer is silent', () => {
    assert.deepEqual(witnessOf('pg-c', { ...noReceiver, inRecovery: false }, true), {
      member: 'pg-c',
      answered: true,
      follows: false,
      lost: false,
      detail: 'answers as a primary',
    });
    assert.equal(witnessOf('pg-c', noReceiver, false).follows, false);
    assert.deepEqual(silentWitness('pg-c', 'timed out after 500 ms'), {
      member: 'pg-c',
      answered: false,
      follows: false,
      lost: false,
      detail: 'no answer: timed out after 500 ms',
    });
  });
});

describe('the synchronous standby names remediator gives a primary it promotes', () => {
  test('any one of the names, each double-quoted (a quote doubled), deduplicated in order', () => {
    assert.equal(synchronousStandbyNames(['pg-c', 'pg-a', 'pg-c', 'odd"name']), 'ANY 1 ("pg-c", "pg-a", "odd""name")');
  });
});
