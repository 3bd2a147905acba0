import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planSwitchover, type SwitchoverPlan, type SwitchoverPlanParams } from '../../../src/actions/postgres/switchover-plan.js';
import { errorCodes } from '../../../src/core/errors/index.js';
import { appError } from '../../helpers/action-run.js';
import { cluster, down, primary, standby, unknown } from './member-states.js';

const KiB = 1024n;
/** The primary's position in every case: 0x5000000 bytes. */
const head = 0x5000000n;
const params = (options: Partial<SwitchoverPlanParams> = {}): SwitchoverPlanParams => ({ to: '', maxLagBytes: 16 * 1024, ...options });

/** The plan's refusal reason (fails when the plan is no refusal). */
function reasonOf(plan: SwitchoverPlan): string {
  assert.ok(plan.kind === 'refused', `expected a refusal, got ${plan.kind}`);
  return plan.reason;
}

describe('postgres.switchover: whether, and to whom, the primary switches', () => {
  test('without `to` the standby that replayed the most is chosen, then by priority, and the lag it had is kept', () => {
    const plan = planSwitchover(
      cluster(
        primary('pg-a'),
        standby('pg-b', { replayed: head - 2n * KiB, priority: 10 }),
        standby('pg-c', { replayed: head - KiB }),
        standby('pg-d', { replayed: head - KiB, priority: 5 }),
      ),
      params(),
    );
    assert.ok(plan.kind === 'switch');
    assert.equal(plan.primary.member.name, 'pg-a');
    assert.equal(plan.candidate.member.name, 'pg-d');
    assert.equal(plan.lagBytes, KiB);
  });

  test('a paused standby, one that does not stream, and one streaming through another standby are never chosen', () => {
    const plan = planSwitchover(
      cluster(
        primary('pg-a'),
        standby('pg-b', { paused: true }),
        standby('pg-c', { streaming: false }),
        standby('pg-d', { upstream: 'pg-b', replayed: head - KiB }),
      ),
      params(),
    );
    assert.match(reasonOf(plan), /^no switchover in postgres cluster "db": no standby streams from pg-a with its replay running$/);
  });

  test('a named standby further behind than maxLagBytes is refused with its lag; the best one too when none is named', () => {
    const states = cluster(
      primary('pg-a'),
      standby('pg-b', { replayed: head - 20n * KiB }),
      standby('pg-c', { replayed: head - 40n * KiB }),
    );
    assert.equal(
      reasonOf(planSwitchover(states, params({ to: 'pg-c' }))),
      'no switchover in postgres cluster "db": pg-c is 40.0 KiB of WAL behind pg-a (maxLagBytes 16.0 KiB)',
    );
    assert.equal(
      reasonOf(planSwitchover(states, params())),
      'no switchover in postgres cluster "db": no standby is caught up enough: the best, pg-b, is 20.0 KiB of WAL behind pg-a (maxLagBytes 16.0 KiB)',
    );
    const refused = planSwitchover(states, params());
    assert.ok(refused.kind === 'refused');
    assert.deepEqual(refused.details, {
      from: 'pg-a',
      to: null,
      candidates: [
        { name: 'pg-b', lagBytes: 20 * 1024, streaming: true, paused: false },
        { name: 'pg-c', lagBytes: 40 * 1024, streaming: true, paused: false },
      ],
    });
    const plan = planSwitchover(states, params({ to: 'pg-c', maxLagBytes: 64 * 1024 }));
    assert.ok(plan.kind === 'switch');
    assert.equal(plan.candidate.member.name, 'pg-c');
  });

  test('a named member that is not a healthy standby of the primary is refused, saying what it is', () => {
    const states = cluster(primary('pg-a'), standby('pg-b', { paused: true }), standby('pg-c', { streaming: false }), down('pg-d'));
    const reason = (to: string) => reasonOf(planSwitchover(states, params({ to })));
    assert.match(reason('pg-b'), /pg-b has its WAL replay paused/);
    assert.match(reason('pg-c'), /pg-c does not stream from pg-a$/);
    assert.match(reason('pg-d'), /pg-d is not a standby \(down\)$/);
    assert.match(reason('pg-z'), /"pg-z" is not a member$/);
  });

  test('`to` naming the primary needs no switch; the fenced stale primaries are listed to be checked', () => {
    const plan = planSwitchover(
      cluster(primary('pg-a', { timeline: 1, readOnly: true }), primary('pg-b', { timeline: 2 }), standby('pg-c')),
      params({ to: 'pg-b' }),
    );
    assert.ok(plan.kind === 'already');
    assert.deepEqual(
      [plan.primary, ...plan.stale].map((state) => state.member.name),
      ['pg-b', 'pg-a'],
      'the primary, then the stale',
    );
  });

  test('no primary answering, only a fenced one, or two writable ones: refused, for a failover or a human to settle', () => {
    assert.match(
      reasonOf(planSwitchover(cluster(down('pg-a'), standby('pg-b')), params())),
      /no primary answers: that is a failover \(postgres\.promote\), not a switchover$/,
    );
    assert.match(
      reasonOf(planSwitchover(cluster(primary('pg-a', { readOnly: true }), standby('pg-b')), params())),
      /no writable primary answers \(pg-a fenced read-only\): lift the fence or fail over by hand$/,
    );
    assert.match(
      reasonOf(planSwitchover(cluster(primary('pg-a'), primary('pg-b', { timeline: 2 })), params())),
      /several writable primaries answer \(pg-a, pg-b\)/,
    );
  });

  test('a retry of a run that fenced the primary carries on with it; once the standby is promoted the retry finds it the primary already', () => {
    const fenced = primary('pg-a', { readOnly: true });
    const resumed = planSwitchover(cluster(fenced, standby('pg-b')), params({ to: 'pg-b', fencedByThisRun: 'pg-a' }));
    assert.ok(resumed.kind === 'switch');
    assert.equal(resumed.primary.member.name, 'pg-a');
    const done = planSwitchover(
      cluster(fenced, primary('pg-b', { timeline: 2 }), standby('pg-c', { upstream: 'pg-b' })),
      params({ to: 'pg-b', fencedByThisRun: 'pg-a' }),
    );
    assert.ok(done.kind === 'already');
    assert.equal(done.primary.member.name, 'pg-b');
  });

  test('members that answer but cannot be inspected stop a switch: refused while it may pass, a permanent error for refused credentials', () => {
    assert.match(
      reasonOf(planSwitchover(cluster(primary('pg-a'), standby('pg-b'), unknown('pg-c', false)), params())),
      /members answer but cannot be inspected: pg-c \(the database system is starting up\)$/,
    );
    assert.throws(
      () => planSwitchover(cluster(primary('pg-a'), standby('pg-b'), unknown('pg-c', true)), params()),
      appError(errorCodes.STEP_PERMANENT, /cannot inspect postgres cluster "db": pg-c \(password authentication failed/),
    );
  });
});
