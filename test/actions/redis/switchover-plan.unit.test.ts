import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RedisMemberState } from '../../../src/actions/redis/member-state.js';
import { planSwitchover, type SwitchoverPlan } from '../../../src/actions/redis/switchover-plan.js';
import type { InventoryCluster } from '../../../src/inventory/inventory.js';
import { gone, member, primary, replica } from '../../helpers/redis-member-states.js';

const cluster: InventoryCluster = { name: 'cache', kind: 'redis', members: ['cache-p', 'cache-a', 'cache-b'].map((name) => member(name)) };

function plan(states: RedisMemberState[], to = '', recorded?: string, maxLagBytes = 1024): SwitchoverPlan {
  return planSwitchover({ cluster, states, recorded, params: { to, maxLagBytes } });
}

/** The switch a plan describes, by member names. */
function switchOf(result: SwitchoverPlan): { from: string; to: string; others: string[]; lagBytes: number } {
  assert.ok(result.kind === 'switch', `expected a switch, got ${JSON.stringify(result)}`);
  return {
    from: result.primary.member.name,
    to: result.candidate.member.name,
    others: result.others.map((state) => state.member.name),
    lagBytes: result.lagBytes,
  };
}

function refusal(result: SwitchoverPlan): string {
  assert.ok(result.kind === 'refuse', `expected a refusal, got ${JSON.stringify(result)}`);
  return result.reason;
}

describe('redis.switchover: the plan', () => {
  test('without `to` the replica furthest ahead is chosen, and every other reachable member is to follow it', () => {
    const states = [primary('cache-p', { offset: 5000 }), replica('cache-a', { offset: 4990 }), replica('cache-b', { offset: 4000 })];
    assert.deepEqual(switchOf(plan(states)), { from: 'cache-p', to: 'cache-a', others: ['cache-b'], lagBytes: 10 });
  });

  test('equally caught-up replicas are chosen by priority, then by name', () => {
    const states = [primary('cache-p'), replica('cache-a'), replica('cache-b', { priority: 10 })];
    assert.equal(switchOf(plan(states)).to, 'cache-b');
    assert.equal(switchOf(plan([primary('cache-p'), replica('cache-b'), replica('cache-a')])).to, 'cache-a');
  });

  test('what a replica applied counts, not what it received: received data is dropped when it is promoted', () => {
    const states = [
      primary('cache-p', { offset: 90_000 }),
      replica('cache-a', { offset: 90_000, applied: 10_000 }),
      replica('cache-b', { offset: 89_900 }),
    ];
    assert.equal(switchOf(plan(states)).to, 'cache-b');
    assert.match(refusal(plan(states, 'cache-a')), /^cache-a is 80000 bytes behind cache-p \(max 1024\)$/);
  });

  test('a named replica is taken although another is further ahead', () => {
    const states = [primary('cache-p', { offset: 5000 }), replica('cache-a', { offset: 5000 }), replica('cache-b', { offset: 4500 })];
    assert.deepEqual(switchOf(plan(states, 'cache-b')), { from: 'cache-p', to: 'cache-b', others: ['cache-a'], lagBytes: 500 });
  });

  test('a named member that is not a healthy replica of the primary is refused with the reason', () => {
    const cases: [RedisMemberState, RegExp][] = [
      [replica('cache-b', { downSeconds: 3 }), /^cache-b's link to cache-p is down$/],
      [replica('cache-b', { of: 'cache-a' }), /^cache-b replicates from 10\.0\.0\.1:6379, not from cache-p$/],
      [gone('cache-b'), /^cache-b does not answer$/],
    ];
    for (const [state, reason] of cases) assert.match(refusal(plan([primary('cache-p'), replica('cache-a'), state], 'cache-b')), reason);
  });

  test('a member the inventory does not have is refused before anything else', () => {
    assert.match(refusal(plan([gone('cache-p'), replica('cache-a')], 'cache-z')), /^no member "cache-z" in cluster cache$/);
  });

  test('with no replica fit the refusal lists why each one is not', () => {
    const reason = refusal(
      plan([primary('cache-p', { offset: 10_000 }), replica('cache-a', { offset: 1000 }), replica('cache-b', { downSeconds: 1 })]),
    );
    assert.match(reason, /^no replica of cache-p is caught up enough: /);
    assert.match(reason, /cache-a is 9000 bytes behind cache-p/);
    assert.match(reason, /cache-b's link to cache-p is down/);
    assert.match(refusal(plan([primary('cache-p'), gone('cache-a'), gone('cache-b')])), /it has no reachable replica/);
  });

  test('with no primary answering it is refused: that is a failover', () => {
    const result = plan([gone('cache-p'), replica('cache-a'), replica('cache-b')], 'cache-a');
    assert.match(refusal(result), /^no primary of cache answers: that is a failover, not a switchover$/);
    assert.ok(result.kind === 'refuse');
    assert.deepEqual(result.details.members, [
      { name: 'cache-p', reachable: false },
      { name: 'cache-a', role: 'slave', offset: 1000, primary: '10.0.0.16:6379', linkUp: true },
      { name: 'cache-b', role: 'slave', offset: 1000, primary: '10.0.0.16:6379', linkUp: true },
    ]);
  });

  test('naming the primary converges on it without a switch: only members that do not follow it are moved', () => {
    const result = plan([primary('cache-p'), replica('cache-a'), replica('cache-b', { of: 'cache-a' })], 'cache-p');
    assert.ok(result.kind === 'converge');
    assert.equal(result.primary.member.name, 'cache-p');
    assert.deepEqual(
      result.plan.followers.map(({ state, fence }) => [state.member.name, fence]),
      [['cache-b', false]],
    );
  });

  test('two primaries (a switchover interrupted after the promotion): the one asked for, else the recorded one, stays and the other is fenced', () => {
    const states = [primary('cache-p'), primary('cache-a'), replica('cache-b')];
    for (const [to, recorded] of [
      ['cache-a', undefined],
      ['', 'cache-a'],
    ] as const) {
      const result = plan(states, to, recorded);
      assert.ok(result.kind === 'converge', JSON.stringify(result));
      assert.equal(result.primary.member.name, 'cache-a');
      assert.deepEqual(
        result.plan.followers.map(({ state, fence }) => [state.member.name, fence]),
        [
          ['cache-p', true],
          ['cache-b', false],
        ],
      );
    }
    assert.match(refusal(plan(states, '', undefined)), /several members of cache are primaries \(cache-p, cache-a\)/);
  });
});
