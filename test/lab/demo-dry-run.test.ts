import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { formatDemoSummary, type DemoSummary, type DryRunDemoSummary, type LiveDemoSummary } from '../../tools/lab/run-demo.js';
import { decisionsOf, renderedParams, runDemoJson, shippedPlaybook } from '../helpers/demo-decisions.js';

const dryRunOf = (summary: DemoSummary): DryRunDemoSummary => {
  if (!summary.dryRun) throw new Error(`expected a dry-run summary, got mode ${summary.mode}`);
  return summary;
};
const liveOf = (summary: DemoSummary): LiveDemoSummary => {
  if (summary.mode !== 'live') throw new Error(`expected a live summary, got mode ${summary.mode}`);
  return summary;
};

// Two whole labs, one after the other (each ~30 s idle, ~60 s on a busy machine): the dry run first, then the
// same scenario live, and their decisions compared.
describe('remediator demo --dry-run: the decisions of a live run, with no side effects', () => {
  let dry: DryRunDemoSummary;
  let live: LiveDemoSummary;
  before(
    async () => {
      const dryRun = await runDemoJson(['--once', '--json', '--dry-run']);
      const liveRun = await runDemoJson(['--once', '--json']);
      dry = dryRunOf(dryRun.summary);
      live = liveOf(liveRun.summary);
      process.stderr.write(`demo timings: dry run ${dryRun.seconds.toFixed(1)} s, live ${liveRun.seconds.toFixed(1)} s\n`);
    },
    { timeout: 200_000 },
  );

  test('the same alerts matched the same playbook, phases, guards and steps in the same order', () => {
    const expected = [
      {
        alert: { alertname: 'PrimaryUnreachable', instance: 'cache-a', status: 'firing' },
        playbook: 'redis-primary-failover',
        phase: 'remediate',
        target: 'cache',
      },
      {
        alert: { alertname: 'PrimaryUnreachable', instance: 'cache-a', status: 'resolved' },
        playbook: 'redis-primary-failover',
        phase: 'failback',
        target: 'cache',
      },
    ];
    assert.deepEqual(
      decisionsOf(dry).map(({ alert, playbook, phase, target }) => ({ alert, playbook, phase, target })),
      expected,
      'the failover, then the failback when cache-a returns',
    );
    assert.deepEqual(decisionsOf(dry), decisionsOf(live), 'a dry run decides what a live run decides');
    assert.deepEqual(decisionsOf(dry)[0]?.steps, ['promote (redis.failover)', 'verify (promql.wait)']);
    assert.deepEqual(decisionsOf(dry)[1]?.steps, ['fence-returned-primary (redis.failover)']);
    assert.equal(dry.failoverRuns, 1);
    assert.equal(dry.alertFromAlertmanager, true);

    for (const run of dry.runs) {
      assert.equal(run.dryRun, true, `${run.phase} run recorded as a dry run`);
      assert.equal(run.state, 'completed');
      assert.deepEqual(
        run.steps.map((step) => step.status),
        run.steps.map(() => 'would-run'),
        `${run.phase}: every step only would run`,
      );
      assert.deepEqual(
        run.steps.map((step) => step.output),
        run.steps.map(() => undefined),
        `${run.phase}: no action ran, so no output`,
      );
    }
    for (const run of live.runs) {
      assert.equal(run.dryRun, false);
      assert.deepEqual(
        run.steps.map((step) => step.status),
        run.steps.map(() => 'succeeded'),
        `live ${run.phase}: every step ran`,
      );
    }
  });

  test("each would-run step has the parameters the live run's step received", async () => {
    const playbook = await shippedPlaybook('redis-primary-failover');
    for (const [index, dryRun] of dry.runs.entries()) {
      const liveRun = live.runs[index];
      assert.ok(liveRun, `a live ${dryRun.phase} run`);
      const recorded = dryRun.steps.map((step) => ({ name: step.name, params: step.params }));
      assert.deepEqual(recorded, renderedParams(playbook, liveRun), `${dryRun.phase}: would-run params = the live alert's rendered params`);
      assert.deepEqual(
        recorded,
        liveRun.steps.map((step) => ({ name: step.name, params: step.params })),
        `${dryRun.phase}: would-run params = the params the live steps recorded`,
      );
      assert.deepEqual(recorded, renderedParams(playbook, dryRun), `${dryRun.phase}: would-run params = the dry run's own alert rendered`);
      // What the live failover actions report back about their input agrees with it.
      for (const [stepIndex, step] of liveRun.steps.entries()) {
        if (step.action !== 'redis.failover') continue;
        assert.equal((step.output as { cluster?: unknown }).cluster, (recorded[stepIndex]?.params as { cluster?: unknown }).cluster);
      }
    }
    const [promote, verify] = dry.runs[0]?.steps ?? [];
    assert.deepEqual(promote?.params, {
      cluster: 'cache',
      maxLagBytes: 1_048_576,
      maxStaleness: 10_000,
      connectTimeout: 2000,
      promote: true,
      verifyTimeout: 15_000,
      confirm: { probes: 4, window: 1500, quorum: 'majority', probeTimeout: 250 },
      protect: { minReplicasToWrite: 1, maxLag: 10_000 },
    });
    assert.match(String((verify?.params as { query?: unknown }).query), /cluster="cache"/);
  });

  test('the dry run changed nothing: no promotion, no fence, no repointed replica, no write outside the old primary, no primary record', () => {
    assert.deepEqual(
      { ...dry.sideEffects, roleSamples: undefined },
      {
        promotions: 0,
        promoted: [],
        demotions: 0,
        demoted: [],
        repointed: [],
        writesOnOtherMembers: 0,
        primaryRecord: {},
        roleSamples: undefined,
      },
    );
    assert.ok(dry.sideEffects.roleSamples > 30, `ROLE was polled throughout (${dry.sideEffects.roleSamples} answers)`);
    assert.equal(dry.oldPrimaryStillPrimary, true);
    assert.deepEqual(
      dry.finalRoles,
      { 'cache-a': 'primary', 'cache-b': 'replica of cache-a', 'cache-c': 'replica of cache-a' },
      'the killed primary is still the primary when it returns',
    );

    // The same watch sees a live run's effects, so the zeros above are measured, not missed.
    assert.ok(live.sideEffects.promoted.includes(live.newPrimary), `live: ${live.newPrimary} promoted`);
    // The fence of the returned cache-a can land before the 100 ms ROLE poll ever sees it as a primary, so the
    // watch need not record a demotion; its final role (asserted below) shows the fence.
    assert.ok(live.sideEffects.writesOnOtherMembers > 0);
    assert.deepEqual(live.sideEffects.primaryRecord, { cache: live.newPrimary });
    assert.equal(live.finalRoles['cache-a'], `replica of ${live.newPrimary}`);
  });

  test('the dry-run summary has no RTO and says what would have run', () => {
    assert.equal(dry.rtoSeconds, null);
    assert.ok(dry.rtoNote.length > 0);
    assert.equal('newPrimary' in dry, false);
    assert.ok(dry.detectionSeconds > 0, 'detection is real in a dry run too');
    const whats = dry.events.map((event) => event.what);
    for (const expected of [
      'fault: cache-a (primary) killed',
      'webhook received from Alertmanager',
      'step promote would-run',
      'step verify would-run',
      'cache-a restarted',
      'PrimaryUnreachable resolved for cache-a (webhook received)',
      'failback step fence-returned-primary would-run',
    ]) {
      assert.ok(whats.includes(expected), `timeline has "${expected}": ${whats.join(' | ')}`);
    }
    const text = formatDemoSummary(dry);
    assert.match(text, /DRY RUN/);
    assert.match(text, /would-run promote \(redis\.failover\) \{"cluster":"cache"/);
    assert.match(text, /would-run fence-returned-primary \(redis\.failover\)/);
    assert.match(text, /side effects: none/);
    assert.match(text, /RTO: none/);
    assert.doesNotMatch(text, /RTO \(fault/);
    assert.match(formatDemoSummary(live), /RTO \(fault → first write on cache-[bc]\): \d+\.\d\d s/);
  });
});
