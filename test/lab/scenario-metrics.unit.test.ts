import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { primariesSeenAtOnce, writesAcceptedByStalePrimary } from '../../tools/lab/scenario-metrics.js';

const round = (n: number, accepted: Record<string, number>) => ({
  round: n,
  startedAt: Math.min(...Object.values(accepted)) - 1,
  accepted,
});

describe('the scenario figures from the write probe and the role watch', () => {
  test('primaries seen at once is the most members that accepted the write in one round', () => {
    assert.equal(primariesSeenAtOnce([]), 0);
    assert.equal(primariesSeenAtOnce([round(1, { 'cache-a': 10 }), round(2, { 'cache-b': 20 })]), 1);
    assert.equal(primariesSeenAtOnce([round(1, { 'cache-a': 10 }), round(2, { 'cache-a': 20, 'cache-b': 21 })]), 2);
  });

  test('a write is stale when a member other than the last one promoted before it acknowledged it', () => {
    const rounds = [
      round(1, { 'cache-a': 100 }),
      round(2, { 'cache-a': 200, 'cache-b': 201 }),
      round(3, { 'cache-b': 300 }),
      round(4, { 'cache-a': 400 }),
      round(5, { 'cache-c': 500 }),
      round(6, { 'cache-b': 600 }),
    ];
    assert.equal(writesAcceptedByStalePrimary(rounds, []), 0, 'without a promotion no write is stale');
    // cache-b promoted at 150: cache-a's writes at 200 and 400 are stale; cache-c promoted at 450: cache-b's at 600.
    assert.equal(
      writesAcceptedByStalePrimary(rounds, [
        { member: 'cache-c', at: 450 },
        { member: 'cache-b', at: 150 },
      ]),
      3,
    );
  });
});
