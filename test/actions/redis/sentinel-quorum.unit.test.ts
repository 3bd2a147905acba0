import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tallyReports, unconfirmedReason } from '../../../src/actions/redis/sentinel-quorum.js';

const old = '10.0.0.1:6379';

describe('redis.sentinel-failover: counting the sentinels', () => {
  test('a majority of the listed sentinels reporting a new master that answers as master confirms the failover', () => {
    const tally = tallyReports(['10.0.0.2:6379', '10.0.0.2:6379', old], old);
    assert.deepEqual(tally, { previous: old, candidate: '10.0.0.2:6379', agreeing: 2, majority: 2, sentinels: 3 });
    assert.equal(unconfirmedReason(tally, 'master'), undefined);
  });

  test('the old master, unreachable sentinels and a minority do not count', () => {
    const tally = tallyReports(['10.0.0.2:6379', undefined, old], old);
    assert.equal(tally.agreeing, 1);
    assert.equal(unconfirmedReason(tally, 'master'), '1 of 3 sentinels report 10.0.0.2:6379 (need 2), its ROLE is master');
  });

  test('a candidate that does not answer ROLE as master is not confirmed, however many sentinels agree', () => {
    const tally = tallyReports(['10.0.0.2:6379', '10.0.0.2:6379', '10.0.0.2:6379'], old);
    assert.equal(unconfirmedReason(tally, 'slave'), '3 of 3 sentinels report 10.0.0.2:6379 (need 2), its ROLE is slave');
    assert.match(unconfirmedReason(tally, 'unknown (connect ECONNREFUSED)') ?? '', /its ROLE is unknown \(connect ECONNREFUSED\)/);
  });

  test('with no sentinel reporting another master yet, that is the reason', () => {
    assert.equal(
      unconfirmedReason(tallyReports([old, undefined, old], old), undefined),
      `no sentinel reports a master other than ${old} yet`,
    );
  });

  test('a majority is more than half: 1 of 1, 2 of 2, 2 of 3, 3 of 4, 3 of 5', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(
        (count) =>
          tallyReports(
            Array.from({ length: count }, () => undefined),
            old,
          ).majority,
      ),
      [1, 2, 2, 3, 3],
    );
  });

  test('split reports pick the address most sentinels name, the first reported on a tie', () => {
    assert.equal(tallyReports(['10.0.0.3:6379', '10.0.0.2:6379', '10.0.0.2:6379'], old).candidate, '10.0.0.2:6379');
    const tie = tallyReports(['10.0.0.3:6379', '10.0.0.2:6379', undefined, undefined], old);
    assert.deepEqual([tie.candidate, tie.agreeing, tie.majority], ['10.0.0.3:6379', 1, 3]);
  });
});
