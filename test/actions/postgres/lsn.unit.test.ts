import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatBytes,
  lsnToBigInt,
  maxPosition,
  parseTimelineHistory,
  timelineHistoryFile,
  timelineOfWalFile,
  walPosition,
} from '../../../src/actions/postgres/lsn.js';

describe('WAL positions and timelines', () => {
  test('an LSN is its high half shifted by 32 bits plus its low half, in either case and with surrounding space', () => {
    assert.equal(lsnToBigInt('16/B374D848'), 0x16b374d848n);
    assert.equal(lsnToBigInt('0/0'), 0n);
    assert.equal(lsnToBigInt(' 16/b374d848\n'), 0x16b374d848n);
  });

  test('positions past 2^53 stay exact, and the low half rolling over orders below the next high half', () => {
    assert.equal(lsnToBigInt('FFFFFFFF/FFFFFFFF'), 2n ** 64n - 1n);
    const beforeRollover = lsnToBigInt('0/FFFFFFFF');
    const afterRollover = lsnToBigInt('1/0');
    assert.ok(beforeRollover !== undefined && afterRollover !== undefined);
    assert.equal(afterRollover - beforeRollover, 1n);
    assert.ok((lsnToBigInt('1/0') ?? 0n) > (lsnToBigInt('0/FFFFFFFF') ?? 0n), 'compared as numbers, not as text');
  });

  test('text that is no LSN gives undefined rather than a wrong position', () => {
    for (const bad of ['', '16', '16/', '/B374D848', '16:B374D848', '123456789/0', '0/123456789', 'G/0', '-1/0', '1/2/3']) {
      assert.equal(lsnToBigInt(bad), undefined, JSON.stringify(bad));
    }
  });

  test('pg_wal_lsn_diff text is read as whole bytes, a fraction dropped, null left undefined', () => {
    assert.equal(walPosition('123'), 123n);
    assert.equal(walPosition('123.000'), 123n);
    assert.equal(walPosition('18446744073709551615'), 2n ** 64n - 1n);
    assert.equal(walPosition(null), undefined);
  });

  test('the larger of two positions is kept', () => {
    assert.equal(maxPosition(1n, 2n), 2n);
    assert.equal(maxPosition(2n ** 60n, 5n), 2n ** 60n);
  });

  test('the timeline of a WAL file name is its first eight hex digits, and its history file is named after it', () => {
    assert.equal(timelineOfWalFile('000000010000000000000003'), 1);
    assert.equal(timelineOfWalFile('0000000A00000001000000FF'), 10);
    assert.equal(timelineHistoryFile(10), 'pg_wal/0000000A.history');
    assert.equal(timelineHistoryFile(2), 'pg_wal/00000002.history');
  });

  test('a timeline history file gives each ancestor timeline its fork point; comments, blank and malformed lines are skipped', () => {
    const history = parseTimelineHistory(
      [
        '1\t0/3000158\tno recovery target specified',
        '',
        '# a comment',
        '2\t0/5000000\tbefore 2026-01-01',
        'x\t0/6000000\treason',
        '3\tnot-an-lsn\treason',
        '4',
      ].join('\n'),
    );
    assert.deepEqual(
      [...history],
      [
        [1, 0x3000158n],
        [2, 0x5000000n],
      ],
    );
  });

  test('an amount of WAL is shown in bytes below 1 KiB, else with one decimal up to TiB', () => {
    assert.equal(formatBytes(0n), '0 B');
    assert.equal(formatBytes(1023n), '1023 B');
    assert.equal(formatBytes(1024n), '1.0 KiB');
    assert.equal(formatBytes(64n * 1024n), '64.0 KiB');
    assert.equal(formatBytes(16n * 1024n * 1024n), '16.0 MiB');
    assert.equal(formatBytes(1536n * 1024n * 1024n), '1.5 GiB');
    assert.equal(formatBytes(2n ** 50n), '1024.0 TiB', 'TiB is the largest unit');
  });
});
