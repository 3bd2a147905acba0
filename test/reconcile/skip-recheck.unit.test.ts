import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recheckDelayMs } from '../../src/reconcile/skip-recheck.js';

describe('the wait before rechecking an episode a step skipped', () => {
  test('starts at RECONCILE_RECHECK_AFTER and doubles with each attempt, up to 15 minutes', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((attempt) => recheckDelayMs(30_000, attempt)),
      [30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000],
    );
  });

  test('a first wait longer than 15 minutes is kept as it is', () => {
    assert.equal(recheckDelayMs(3_600_000, 1), 3_600_000);
    assert.equal(recheckDelayMs(3_600_000, 4), 3_600_000);
  });
});
