import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RedisMemberState } from '../../../src/actions/redis/member-state.js';
import { gone, member, primary, replica } from '../../helpers/redis-member-states.js';
import { planFailover, type FailoverPlan, type FailoverPlanParams } from '../../../src/actions/redis/plan.js';
import { memberStateOf } from '../../../src/actions/redis/probe.js';
import { errorCodes } from '../../../src/core/errors/index.js';
import { parseInfo } from '../../../src/inventory/redis-info.js';
import { appError } from '../../helpers/action-run.js';

const now = Date.parse('2026-11-02T10:00:00Z');
const defaults: FailoverPlanParams = { promote: true, maxLagBytes: 1024 * 1024, maxStaleness: 10_000 };

function plan(states: RedisMemberState[], params: Partial<FailoverPlanParams> = {}, recorded?: string): FailoverPlan {
  return planFailover({ cluster: 'cache', states, recorded, params: { ...defaults, ...params }, now });
}

function converge(result: FailoverPlan): { primary: string; promote: boolean; fenced: string[]; repointed: string[] } {
  assert.ok(result.kind === 'converge', `expected a plan to converge, got ${JSON.stringify(result)}`);
  return {
    primary: result.primary.member.name,
    promote: result.promote,
    fenced: result.followers.filter((follower) => follower.fence).map((follower) => follower.state.member.name),
    repointed: result.followers.filter((follower) => !follower.fence).map((follower) => follower.state.member.name),
  };
}

describe('redis.failover: the plan', () => {
  test('a healthy cluster needs nothing: the primary stays and its replicas already follow it', () => {
    assert.deepEqual(converge(plan([primary('cache-p', { replicas: 2 }), replica('cache-a'), replica('cache-b')])), {
      primary: 'cache-p',
      promote: false,
      fenced: [],
      repointed: [],
    });
  });

  test('with every member down the failure is transient and names each member', () => {
    assert.throws(
      () => plan([gone('cache-p'), gone('cache-a')]),
      appError(
        errorCodes.STEP_FAILED,
        /no member of cache is reachable: cache-p \(connect ECONNREFUSED\), cache-a \(connect ECONNREFUSED\)/,
      ),
    );
  });

  test('with the primary gone the freshest replica is promoted over a higher-priority one, and the other replica follows it', () => {
    const states = [
      gone('cache-p'),
      replica('cache-a', { offset: 5000, downSeconds: 1 }),
      replica('cache-b', { offset: 4000, downSeconds: 1, priority: 10 }),
    ];
    assert.deepEqual(converge(plan(states)), { primary: 'cache-a', promote: true, fenced: [], repointed: ['cache-b'] });
  });

  test('equally fresh replicas go by priority, then by name', () => {
    assert.deepEqual(
      converge(plan([gone('cache-p'), replica('cache-a', { downSeconds: 1 }), replica('cache-b', { downSeconds: 1, priority: 10 })]))
        .primary,
      'cache-b',
    );
    assert.deepEqual(
      converge(plan([gone('cache-p'), replica('cache-b', { downSeconds: 1 }), replica('cache-a', { downSeconds: 1 })])).primary,
      'cache-a',
    );
  });

  test('a replica further behind the freshest than maxLagBytes is never promoted, whatever its priority, but is repointed', () => {
    const states = [
      gone('cache-p'),
      replica('cache-a', { offset: 3_000_000, downSeconds: 1 }),
      replica('cache-b', { offset: 100, downSeconds: 1, priority: 10 }),
    ];
    assert.deepEqual(converge(plan(states, { maxLagBytes: 1024 * 1024 })), {
      primary: 'cache-a',
      promote: true,
      fenced: [],
      repointed: ['cache-b'],
    });
  });

  test('exactly maxLagBytes behind is still eligible, one byte more is not', () => {
    // cache-a is fresher but stale (it lost its primary a minute before the failure), so only cache-b's lag decides.
    const states = [
      gone('cache-p'),
      replica('cache-a', { offset: 2000, downSeconds: 60 }),
      replica('cache-b', { offset: 1000, downSeconds: 1 }),
    ];
    const failedAt = new Date(now - 1000).toISOString();
    assert.equal(converge(plan(states, { maxLagBytes: 1000, failedAt })).primary, 'cache-b');
    assert.throws(
      () => plan(states, { maxLagBytes: 999, failedAt }),
      appError(errorCodes.STEP_PERMANENT, /cache-b is 1000 bytes behind 2000 \(max 999\)/),
    );
  });

  test('without failedAt, a replica that lost its primary long before the others is stale, measured against the replicas themselves', () => {
    const states = [gone('cache-p'), replica('cache-a', { downSeconds: 2 }), replica('cache-b', { downSeconds: 30, priority: 10 })];
    assert.deepEqual(converge(plan(states, { maxStaleness: 1000, maxLagBytes: 1024 ** 3 })), {
      primary: 'cache-a',
      promote: true,
      fenced: [],
      repointed: ['cache-b'],
    });
  });

  test('a lone stale replica, judged against the given failure time, is refused permanently with the reason', () => {
    const states = [gone('cache-p'), gone('cache-a'), replica('cache-b', { downSeconds: 5 })];
    assert.throws(
      () => plan(states, { maxStaleness: 1000, failedAt: new Date(now).toISOString() }),
      appError(errorCodes.STEP_PERMANENT, /^no replica is safe to promote: cache-b lost its primary 5 s before the failure \(max 1 s\)$/),
    );
    assert.equal(converge(plan(states, { maxStaleness: 1000 })).primary, 'cache-b', 'without failedAt a lone replica is its own measure');
  });

  test('when every replica is refused, each reason is given', () => {
    const states = [
      gone('cache-p'),
      replica('cache-a', { offset: 10, downSeconds: 1 }),
      replica('cache-b', { offset: 5000, downSeconds: 60 }),
    ];
    assert.throws(
      () => plan(states, { maxLagBytes: 100, maxStaleness: 10_000, failedAt: new Date(now - 1000).toISOString() }),
      appError(
        errorCodes.STEP_PERMANENT,
        /cache-a is 4990 bytes behind 5000 \(max 100\); cache-b lost its primary 59 s before the failure \(max 10 s\)/,
      ),
    );
  });

  test('promote: false with no primary reachable plans nothing, and says why', () => {
    assert.deepEqual(plan([gone('cache-p'), replica('cache-a', { downSeconds: 1 })], { promote: false }), {
      kind: 'none',
      reason: 'no primary reachable; promote: false never promotes',
    });
  });

  test('an old primary that came back is fenced: the recorded primary stays, even with fewer replicas', () => {
    const states = [
      primary('cache-p', { replicas: 1, offset: 9000 }),
      primary('cache-b', { replicas: 0 }),
      replica('cache-a', { of: 'cache-b' }),
    ];
    assert.deepEqual(converge(plan(states, {}, 'cache-b')), { primary: 'cache-b', promote: false, fenced: ['cache-p'], repointed: [] });
    assert.deepEqual(
      converge(plan(states, { promote: false }, 'cache-b')),
      { primary: 'cache-b', promote: false, fenced: ['cache-p'], repointed: [] },
      'fence-only runs fence too',
    );
  });

  test('without a record the most followed primary stays, then the furthest ahead, then priority; replicas of the loser are repointed', () => {
    const followed = [
      primary('cache-p', { replicas: 0, offset: 9000 }),
      primary('cache-b', { replicas: 1 }),
      replica('cache-a', { of: 'cache-b' }),
      replica('cache-c', { of: 'cache-p' }),
    ];
    assert.deepEqual(converge(plan(followed)), { primary: 'cache-b', promote: false, fenced: ['cache-p'], repointed: ['cache-c'] });
    assert.equal(converge(plan([primary('cache-p', { offset: 10 }), primary('cache-b', { offset: 20 })])).primary, 'cache-b');
    assert.equal(converge(plan([primary('cache-p'), primary('cache-b', { priority: 3 })])).primary, 'cache-b');
    assert.equal(
      converge(plan([primary('cache-p'), primary('cache-b')], {}, 'cache-z')).primary,
      'cache-p',
      'a recorded primary that is not reachable does not count',
    );
  });

  test('members to move keep the inventory order, fenced and repointed interleaved as probed', () => {
    const result = plan([
      primary('cache-a', { replicas: 2 }),
      replica('cache-b', { of: 'cache-z' }),
      primary('cache-c'),
      replica('cache-d', { of: 'cache-a' }),
    ]);
    assert.ok(result.kind === 'converge');
    assert.deepEqual(
      result.followers.map((follower) => [follower.state.member.name, follower.fence]),
      [
        ['cache-b', false],
        ['cache-c', true],
      ],
    );
  });
});

describe('redis.failover: a member state from INFO replication', () => {
  test('a master reports its replication offset and connected replicas', () => {
    const state = memberStateOf(
      member('cache-p'),
      parseInfo(
        '# Replication\r\nrole:master\r\nconnected_slaves:2\r\nslave0:ip=10.0.0.1,port=6379,state=online,offset=5,lag=0\r\nmaster_repl_offset:12345\r\n',
      ),
    );
    assert.deepEqual(state, { member: member('cache-p'), reachable: true, role: 'master', offset: 12345, connectedReplicas: 2 });
  });

  test('a replica of an IPv6 primary names it as the inventory does, in brackets, so that the plan recognises its followers', () => {
    const state = memberStateOf(
      member('cache-a'),
      parseInfo('role:slave\nmaster_host:fd00::16\nmaster_port:6379\nmaster_link_status:up\n'),
    );
    assert.equal(state.primary, '[fd00::16]:6379');
  });

  test('a replica reports its primary, its link, the larger of its received and applied offsets, and the applied one', () => {
    const up = memberStateOf(
      member('cache-a'),
      parseInfo(
        'role:slave\nmaster_host:10.0.0.16\nmaster_port:6379\nmaster_link_status:up\nslave_repl_offset:100\nslave_read_repl_offset:120\n',
      ),
    );
    assert.deepEqual(up, {
      member: member('cache-a'),
      reachable: true,
      role: 'slave',
      primary: '10.0.0.16:6379',
      linkUp: true,
      offset: 120,
      appliedOffset: 100,
      connectedReplicas: 0,
    });
    const down = memberStateOf(
      member('cache-a'),
      parseInfo(
        'role:slave\nmaster_host:10.0.0.16\nmaster_port:6379\nmaster_link_status:down\nmaster_link_down_since_seconds:42\nslave_repl_offset:100\n',
      ),
    );
    assert.equal(down.linkUp, false);
    assert.equal(down.linkDownSeconds, 42);
  });

  test('odd INFO: a role other than master counts as a replica, missing fields as empty or 0', () => {
    const state = memberStateOf(member('cache-a'), parseInfo('role:sentinel\n'));
    assert.deepEqual(state, {
      member: member('cache-a'),
      reachable: true,
      role: 'slave',
      primary: ':',
      linkUp: false,
      linkDownSeconds: 0,
      offset: 0,
      appliedOffset: 0,
      connectedReplicas: 0,
    });
  });
});
