import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lsnToBigInt } from '../../../src/actions/postgres/lsn.js';
import type { PrimaryState, StandbyState } from '../../../src/actions/postgres/member-state.js';
import { chooseCandidate, hasDiverged, planFollowers, planPrimary, previousPrimary } from '../../../src/actions/postgres/plan.js';
import { errorCodes } from '../../../src/core/errors/index.js';
import { appError } from '../../helpers/action-run.js';
import { cluster, down, locatorFor, member, primary, standby, unknown } from './member-states.js';

const MiB = 1024n * 1024n;

const maxLagBytes = Number(16n * MiB);
/** The parameters of a step that may promote (the default). */
const promoting = { maxLagBytes, promote: true };

describe('postgres.promote: which member is to be the primary', () => {
  test('on a healthy cluster the primary is kept and named as the previous one', () => {
    const plan = planPrimary(cluster(primary('pg-a', { streamingStandbys: 2 }), standby('pg-b'), standby('pg-c')), promoting);
    assert.ok(plan.kind === 'keep');
    assert.equal(plan.primary.member.name, 'pg-a');
    assert.equal(plan.previous, 'pg-a');
    assert.deepEqual(plan.stale, []);
  });

  test('of two primaries the one on the newest timeline wins and the other is stale, even when it has more standbys and priority', () => {
    const plan = planPrimary(
      cluster(primary('pg-a', { timeline: 1, streamingStandbys: 2, priority: 10 }), primary('pg-b', { timeline: 2 })),
      promoting,
    );
    assert.ok(plan.kind === 'keep');
    assert.equal(plan.primary.member.name, 'pg-b');
    assert.deepEqual(
      plan.stale.map((state) => state.member.name),
      ['pg-a'],
    );
  });

  test('on the same timeline a writable primary wins over a fenced one, then the one with more streaming standbys, then priority, then name', () => {
    const pick = (...states: PrimaryState[]) => {
      const plan = planPrimary(cluster(...states), promoting);
      assert.ok(plan.kind === 'keep');
      return plan.primary.member.name;
    };
    assert.equal(pick(primary('pg-a', { readOnly: true, streamingStandbys: 3 }), primary('pg-b')), 'pg-b');
    assert.equal(pick(primary('pg-a', { streamingStandbys: 1 }), primary('pg-b', { streamingStandbys: 2 })), 'pg-b');
    assert.equal(pick(primary('pg-a'), primary('pg-b', { priority: 1 })), 'pg-b');
    assert.equal(pick(primary('pg-b'), primary('pg-a')), 'pg-a');
  });

  test('the newest primary being fenced read-only is a permanent error: a person must lift the fence', () => {
    assert.throws(
      () => planPrimary(cluster(primary('pg-a', { timeline: 1 }), primary('pg-b', { timeline: 3, readOnly: true })), promoting),
      appError(errorCodes.STEP_PERMANENT, /pg-b is the newest primary of postgres cluster "db" \(timeline 3\) but is fenced read-only/),
    );
  });

  test('a member that refuses the credentials is a permanent error, checked before anything else', () => {
    assert.throws(
      () => planPrimary(cluster(primary('pg-a'), unknown('pg-b', true), unknown('pg-c', false)), promoting),
      appError(errorCodes.STEP_PERMANENT, /cannot inspect postgres cluster "db": pg-b \(password authentication failed/),
    );
  });

  test('no member reachable is a transient error naming every member', () => {
    assert.throws(
      () => planPrimary(cluster(down('pg-a'), down('pg-b')), promoting),
      appError(
        errorCodes.STEP_FAILED,
        /no member of postgres cluster "db" is reachable: pg-a \(connect ECONNREFUSED\), pg-b \(connect ECONNREFUSED\)/,
      ),
    );
    assert.throws(
      () => planPrimary(cluster(down('pg-a'), unknown('pg-b', false)), promoting),
      appError(errorCodes.STEP_FAILED, /is reachable: .*pg-b \(the database system is starting up\)/),
    );
  });

  test('with no primary, a member that answers but cannot be inspected stops the promotion, transiently', () => {
    assert.throws(
      () => planPrimary(cluster(down('pg-a'), standby('pg-b', { streaming: false }), unknown('pg-c', false)), promoting),
      appError(errorCodes.STEP_FAILED, /not promoting in postgres cluster "db" while members answer but cannot be inspected: pg-c/),
    );
  });

  test('a standby still streaming from a server remediator cannot reach stops the promotion, unless that is the previous primary, whose death the confirmation decides', () => {
    const viaStandby = standby('pg-b', { upstream: 'pg-c' });
    assert.throws(
      () => planPrimary(cluster(down('pg-a'), down('pg-c'), viaStandby, standby('pg-d', { streaming: false })), promoting),
      appError(
        errorCodes.STEP_FAILED,
        /not promoting in postgres cluster "db": pg-b still streams from pg-c, which remediator cannot reach; the primary may be alive/,
      ),
    );
    const outside = { ...standby('pg-b'), streamingFrom: { host: '192.0.2.7', port: 5432 } };
    assert.throws(
      () => planPrimary(cluster(down('pg-a'), outside), promoting),
      appError(errorCodes.STEP_FAILED, /pg-b still streams from 192\.0\.2\.7:5432/),
      'an upstream outside the inventory is named by address',
    );
    const plan = planPrimary(cluster(down('pg-a'), standby('pg-b', { upstream: 'pg-a' })), promoting);
    assert.equal(plan.kind, 'promote');
    assert.equal(plan.previous, 'pg-a');
  });

  test('a standby cascading from another reachable standby does not stop the promotion', () => {
    const plan = planPrimary(
      cluster(down('pg-a'), standby('pg-b', { streaming: false }), standby('pg-c', { upstream: 'pg-b' })),
      promoting,
    );
    assert.equal(plan.kind, 'promote');
  });

  test('the standby that replayed the most WAL is promoted over a higher-priority one that replayed less', () => {
    const plan = planPrimary(
      cluster(
        down('pg-a'),
        standby('pg-b', { streaming: false, priority: 10, replayed: 0x5000000n, received: 0x5100000n, paused: true }),
        standby('pg-c', { streaming: false, replayed: 0x5100000n }),
      ),
      promoting,
    );
    assert.ok(plan.kind === 'promote');
    assert.equal(plan.candidate.member.name, 'pg-c');
    assert.equal(plan.previous, 'pg-a', 'both standbys were configured to follow pg-a');
  });

  test('equally replayed standbys go by priority, then by name', () => {
    const candidate = (...standbys: StandbyState[]) => chooseCandidate('db', standbys, maxLagBytes).member.name;
    assert.equal(candidate(standby('pg-b'), standby('pg-c', { priority: 5 })), 'pg-c');
    assert.equal(candidate(standby('pg-c'), standby('pg-b')), 'pg-b');
  });

  test('a best candidate with more WAL received but not replayed than maxLagBytes is refused permanently, with its lag and every candidate', () => {
    const lagging = standby('pg-b', { streaming: false, replayed: 0x5000000n, received: 0x5000000n + 3n * MiB });
    assert.throws(
      () => planPrimary(cluster(down('pg-a'), lagging), { ...promoting, maxLagBytes: 64 * 1024 }),
      appError(
        errorCodes.STEP_PERMANENT,
        /refusing to promote in postgres cluster "db": the best candidate pg-b \(highest replay position\) has 3\.0 MiB of WAL received but not replayed \(maxLagBytes 64\.0 KiB\)/,
        /candidates: pg-b \(replayed 0\/5000000, 3\.0 MiB received but not replayed, 0 B behind the most advanced standby\)/,
      ),
    );
  });

  test('the most replayed standby is refused when another received more than maxLagBytes beyond it; within the bound it is promoted', () => {
    const cut = standby('pg-c', { streaming: false, replayed: 0x5100000n });
    const paused = standby('pg-b', { streaming: false, replayed: 0x5000000n, received: 0x5100000n + 2n * MiB, paused: true });
    assert.throws(
      () => planPrimary(cluster(down('pg-a'), paused, cut), { ...promoting, maxLagBytes: 256 * 1024 }),
      appError(
        errorCodes.STEP_PERMANENT,
        /best candidate pg-c \(highest replay position\) is 2\.0 MiB of WAL behind the most advanced standby/,
        /candidates: pg-c .*; pg-b /,
      ),
    );
    const plan = planPrimary(cluster(down('pg-a'), paused, cut), promoting);
    assert.ok(plan.kind === 'promote');
    assert.equal(plan.candidate.member.name, 'pg-c');
  });

  test('exactly maxLagBytes of lag is still allowed', () => {
    const best = standby('pg-b', { replayed: 0x5000000n, received: 0x5000000n + 1024n });
    assert.equal(chooseCandidate('db', [best], 1024).member.name, 'pg-b');
    assert.throws(
      () => chooseCandidate('db', [best], 1023),
      appError(errorCodes.STEP_PERMANENT, /1\.0 KiB of WAL received but not replayed \(maxLagBytes 1023 B\)/),
    );
  });

  test('with no standby to choose from the failure is transient', () => {
    assert.throws(
      () => chooseCandidate('db', [], maxLagBytes),
      appError(errorCodes.STEP_FAILED, /no reachable standby in postgres cluster "db" to promote/),
    );
  });

  test('positions beyond 2^53 bytes are compared exactly', () => {
    const high = lsnToBigInt('FFFFFFFF/FFFFFF00') ?? 0n;
    const b = { ...standby('pg-b', { priority: 10 }), replayed: high, received: high };
    const c = { ...standby('pg-c'), replayed: high + 1n, received: high + 1n };
    assert.equal(chooseCandidate('db', [b, c], maxLagBytes).member.name, 'pg-c');
  });

  test('the previous primary is the member most standbys are configured to follow, ties by name, none when they name no member', () => {
    const locate = locatorFor(['pg-a', 'pg-b', 'pg-c', 'pg-d'].map((name) => member(name)));
    assert.equal(
      previousPrimary(
        [standby('pg-b', { upstream: 'pg-d' }), standby('pg-c', { upstream: 'pg-a' }), standby('pg-d', { upstream: 'pg-a' })],
        locate,
      ),
      'pg-a',
    );
    assert.equal(previousPrimary([standby('pg-b', { upstream: 'pg-d' }), standby('pg-c', { upstream: 'pg-a' })], locate), 'pg-a');
    assert.equal(previousPrimary([standby('pg-b', { conninfo: 'host=192.0.2.7 port=5432' })], locate), null);
    assert.equal(previousPrimary([standby('pg-b', { upstream: 'pg-b' })], locate), null, 'a standby naming itself casts no vote');
  });
});

describe('postgres.promote with promote: false (fence only): a standby is never chosen to be the primary', () => {
  const fencing = { maxLagBytes, promote: false };

  test('with no primary answering there is nothing to do: the plan is none, names the primary the standbys follow and says why', () => {
    const plan = planPrimary(cluster(down('pg-a'), standby('pg-b', { streaming: false }), standby('pg-c', { streaming: false })), fencing);
    assert.deepEqual(plan, {
      kind: 'none',
      previous: 'pg-a',
      reason:
        'no member of postgres cluster "db" answers as a primary (pg-a (connect ECONNREFUSED), pg-b (standby), pg-c (standby)); promote: false never promotes',
    });
  });

  test('where a promotion would be refused or held back (a lagging candidate, a member that cannot be inspected, a standby streaming from an unreachable server) the plan is still none, not an error', () => {
    const lagging = standby('pg-b', { streaming: false, received: 0x5000000n + 3n * MiB });
    for (const states of [
      [down('pg-a'), lagging],
      [down('pg-a'), standby('pg-b', { streaming: false }), unknown('pg-c', false)],
      [down('pg-a'), standby('pg-b', { upstream: 'pg-d' }), down('pg-d')],
    ]) {
      const plan = planPrimary(cluster(...states), { ...fencing, maxLagBytes: 64 * 1024 });
      assert.equal(plan.kind, 'none', states.map((state) => `${state.member.name} ${state.role}`).join(', '));
    }
  });

  test('refused credentials are still a permanent error, and no member answering a transient one: nobody can tell whether a primary is up', () => {
    assert.throws(
      () => planPrimary(cluster(down('pg-a'), unknown('pg-b', true)), fencing),
      appError(errorCodes.STEP_PERMANENT, /cannot inspect/),
    );
    assert.throws(
      () => planPrimary(cluster(down('pg-a'), down('pg-b')), fencing),
      appError(errorCodes.STEP_FAILED, /no member of postgres cluster "db" is reachable/),
    );
  });

  test("with primaries answering the plan is a promoting step's: the newest is kept and the others are stale", () => {
    const states = cluster(primary('pg-a', { timeline: 1, streamingStandbys: 1 }), primary('pg-b', { timeline: 2 }), standby('pg-c'));
    const plan = planPrimary(states, fencing);
    assert.deepEqual(plan, planPrimary(states, promoting));
    assert.ok(plan.kind === 'keep');
    assert.equal(plan.primary.member.name, 'pg-b');
    assert.deepEqual(
      plan.stale.map((state) => state.member.name),
      ['pg-a'],
    );
  });
});

describe('postgres.promote: who follows, who is fenced, who is left alone', () => {
  const a = member('pg-a');

  test('standbys that already stream from the primary, directly or through another standby, are left alone', () => {
    const plan = planFollowers({
      cluster: cluster(primary('pg-a'), standby('pg-b'), standby('pg-c', { upstream: 'pg-b' })),
      target: a,
      timeline: 1,
      history: new Map(),
      promoted: false,
      stale: [],
    });
    assert.deepEqual(plan, { fence: [], repoint: [], diverged: [] });
  });

  test('after a promotion the other standby is repointed (its primary_conninfo rewritten) and a paused one listed for resuming', () => {
    const c = member('pg-c');
    const states = cluster(down('pg-a'), standby('pg-b', { streaming: false, paused: true }), standby('pg-c', { streaming: false }));
    const plan = planFollowers({ cluster: states, target: c, timeline: 2, history: new Map([[1, 0x6000000n]]), promoted: true, stale: [] });
    assert.deepEqual(
      plan.repoint.map(({ standby: state, rewrite }) => [state.member.name, rewrite, state.paused]),
      [['pg-b', true, true]],
    );
    assert.deepEqual(plan.diverged, []);
  });

  test('a standby already configured for the primary but not streaming is not rewritten, only resumed or waited for', () => {
    const plan = planFollowers({
      cluster: cluster(primary('pg-a'), standby('pg-b', { streaming: false, paused: true })),
      target: a,
      timeline: 1,
      history: new Map(),
      promoted: false,
      stale: [],
    });
    assert.deepEqual(
      plan.repoint.map(({ standby: state, rewrite }) => [state.member.name, rewrite]),
      [['pg-b', false]],
    );
  });

  test('a primary_conninfo with several hosts is rewritten even when one of them is the primary', () => {
    const plan = planFollowers({
      cluster: cluster(primary('pg-a'), standby('pg-b', { streaming: false, conninfo: 'host=10.0.0.1,10.0.0.3 port=5432' })),
      target: a,
      timeline: 1,
      history: new Map(),
      promoted: false,
      stale: [],
    });
    assert.deepEqual(
      plan.repoint.map(({ rewrite }) => rewrite),
      [true],
    );
  });

  test("a standby that received WAL past its timeline's fork point has diverged and is left alone, also on a rerun", () => {
    const c = member('pg-c');
    const ahead = standby('pg-b', { streaming: false, replayed: 0x5000000n, received: 0x6000100n, paused: true });
    const plan = planFollowers({
      cluster: cluster(down('pg-a'), ahead, standby('pg-c', { streaming: false })),
      target: c,
      timeline: 2,
      history: new Map([[1, 0x6000000n]]),
      promoted: true,
      stale: [],
    });
    assert.deepEqual(plan, { fence: [], repoint: [], diverged: ['pg-b'] });
    const rerun = planFollowers({
      cluster: cluster(down('pg-a'), ahead, primary('pg-c', { timeline: 2 })),
      target: c,
      timeline: 2,
      history: new Map([[1, 0x6000000n]]),
      promoted: false,
      stale: [],
    });
    assert.deepEqual(rerun.diverged, ['pg-b']);
  });

  test('divergence: same timeline never, a newer timeline always, an ancestor past its fork or missing from the history yes, an unreadable history never', () => {
    const history = new Map([
      [1, 0x6000000n],
      [2, 0x7000000n],
    ]);
    assert.equal(hasDiverged(standby('pg-b', { timeline: 3, received: 0x9000000n }), 3, history), false);
    assert.equal(hasDiverged(standby('pg-b', { timeline: 4 }), 3, history), true);
    assert.equal(
      hasDiverged(standby('pg-b', { timeline: 2, received: 0x7000000n }), 3, history),
      false,
      'exactly at the fork point is still on the branch',
    );
    assert.equal(hasDiverged(standby('pg-b', { timeline: 2, received: 0x7000001n }), 3, history), true);
    assert.equal(
      hasDiverged(standby('pg-b', { timeline: 1, received: 0x1000n }), 3, new Map([[2, 0x7000000n]])),
      true,
      'timeline 1 is not in this history',
    );
    assert.equal(hasDiverged(standby('pg-b', { timeline: 1, received: 0x9000000n }), 3, undefined), false);
  });

  test('stale primaries are listed for fencing, a read-only one too (a write then proves the fence)', () => {
    const stale = [primary('pg-b', { readOnly: true }), primary('pg-c')];
    const plan = planFollowers({
      cluster: cluster(primary('pg-a', { timeline: 2 }), ...stale),
      target: a,
      timeline: 2,
      history: new Map([[1, 0x6000000n]]),
      promoted: false,
      stale,
    });
    assert.deepEqual(
      plan.fence.map((state) => state.member.name),
      ['pg-b', 'pg-c'],
    );
  });

  test('nothing changes while a member answers but cannot be inspected; a cluster needing no change may still be checked', () => {
    const stale = [primary('pg-c')];
    assert.throws(
      () =>
        planFollowers({
          cluster: cluster(primary('pg-a', { timeline: 2 }), unknown('pg-b', false), ...stale),
          target: a,
          timeline: 2,
          history: new Map(),
          promoted: false,
          stale,
        }),
      appError(
        errorCodes.STEP_FAILED,
        /not changing postgres cluster "db" while members answer but cannot be inspected: pg-b \(the database system is starting up\)/,
      ),
    );
    const fenced = [primary('pg-c', { readOnly: true })];
    const plan = planFollowers({
      cluster: cluster(primary('pg-a', { timeline: 2 }), unknown('pg-b', false), standby('pg-d'), ...fenced),
      target: a,
      timeline: 2,
      history: new Map(),
      promoted: false,
      stale: fenced,
    });
    assert.deepEqual(
      plan.fence.map((state) => state.member.name),
      ['pg-c'],
    );
    assert.throws(
      () =>
        planFollowers({
          cluster: cluster(down('pg-a'), unknown('pg-b', false), standby('pg-c', { streaming: false })),
          target: member('pg-c'),
          timeline: 2,
          history: new Map(),
          promoted: true,
          stale: [],
        }),
      appError(errorCodes.STEP_FAILED, /not changing/),
      'a promotion is a change',
    );
  });
});
