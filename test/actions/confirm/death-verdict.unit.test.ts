import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decideDeath, quorumSize, type ObservationRound, type WitnessObservation } from '../../../src/actions/confirm/death-verdict.js';

const silent = { answered: false, detail: 'no answer: timeout' };
const lost = (member: string, lostForMs?: number): WitnessObservation => ({
  member,
  answered: true,
  follows: true,
  lost: true,
  ...(lostForMs === undefined ? {} : { lostForMs }),
  detail: 'link down',
});
const sees = (member: string): WitnessObservation => ({ member, answered: true, follows: true, lost: false, detail: 'link up' });
const round = (at: number, witnesses: WitnessObservation[], primary = silent): ObservationRound => ({ at, primary, witnesses });
const params = { window: 1500, quorum: 'majority' as const };

describe('deciding whether a primary is dead, from rounds of observations (pure)', () => {
  test('a majority is more than half of the answering replicas, and at least one', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((answering) => quorumSize('majority', answering)),
      [1, 1, 2, 2, 3, 3],
    );
    assert.equal(quorumSize(2, 5), 2);
  });

  test('dead when remediator never reached it and every replica lost it for the whole window', () => {
    const verdict = decideDeath(
      'cache-a',
      [round(0, [lost('cache-b'), lost('cache-c')]), round(1500, [lost('cache-b'), lost('cache-c')])],
      params,
    );
    assert.equal(verdict.confirmed, true);
    assert.deepEqual(verdict.lost, ['cache-b', 'cache-c']);
    assert.equal(verdict.needed, 2);
  });

  test('one answer from the primary in any round means it is alive, whatever the replicas say', () => {
    const verdict = decideDeath(
      'cache-a',
      [round(0, [lost('cache-b', 9000)]), round(500, [lost('cache-b', 9500)], { answered: true, detail: 'role master' })],
      params,
    );
    assert.ok(!verdict.confirmed && verdict.kind === 'primary-reachable');
    assert.match(verdict.reason, /cache-a answered remediator during confirmation \(role master\)/);
  });

  test('replicas that still see the primary stop the promotion, and the reason names them', () => {
    const rounds = [round(0, [sees('cache-b'), sees('cache-c')]), round(1500, [sees('cache-b'), sees('cache-c')])];
    const verdict = decideDeath('cache-a', rounds, params);
    assert.ok(!verdict.confirmed && verdict.kind === 'primary-reachable-from-replicas');
    assert.deepEqual(verdict.seeing, ['cache-b', 'cache-c']);
    assert.match(verdict.reason, /only 0 of 2 replicas lost it for 1\.5 s \(quorum 2\); cache-b, cache-c still see it/);
  });

  test('one of two replicas is not a majority; one of three with quorum 1 is enough', () => {
    const split = [round(0, [lost('cache-b'), sees('cache-c')]), round(1500, [lost('cache-b'), sees('cache-c')])];
    assert.equal(decideDeath('cache-a', split, params).confirmed, false);
    assert.equal(decideDeath('cache-a', split, { window: 1500, quorum: 1 }).confirmed, true);
  });

  test('a replica that lost the primary only lately has not lost it for the window, unless its own account says so', () => {
    const lately = [round(0, [sees('cache-b')]), round(750, [lost('cache-b')]), round(1500, [lost('cache-b')])];
    assert.equal(decideDeath('cache-a', lately, params).confirmed, false, '750 ms of loss is not 1.5 s');
    const accounted = [round(0, [sees('cache-b')]), round(1500, [lost('cache-b', 2000)])];
    assert.equal(decideDeath('cache-a', accounted, params).confirmed, true, 'link down for 2 s by its own account');
  });

  test('a round in which a replica did not answer breaks its span of loss', () => {
    const gap = [round(0, [lost('cache-b')]), round(750, [{ ...lost('cache-b'), answered: false }]), round(1500, [lost('cache-b')])];
    assert.equal(decideDeath('cache-a', gap, params).confirmed, false);
  });

  test('replicas that do not follow the primary, or did not answer the last round, are not witnesses', () => {
    const rounds = [
      round(0, [lost('cache-b'), { ...sees('cache-c'), follows: false }, lost('cache-d')]),
      round(1500, [lost('cache-b'), { ...sees('cache-c'), follows: false }, { ...lost('cache-d'), answered: false }]),
    ];
    const verdict = decideDeath('cache-a', rounds, params);
    assert.equal(verdict.confirmed, true);
    assert.equal(verdict.needed, 1, 'one answering witness: a majority of one');
  });

  test('with no witness at all nobody can confirm the death, and nothing is promoted', () => {
    const verdict = decideDeath('cache-a', [round(0, [{ ...sees('cache-b'), answered: false }])], params);
    assert.ok(!verdict.confirmed && verdict.kind === 'death-unconfirmed');
    assert.match(verdict.reason, /no replica that follows cache-a answered/);
  });
});
