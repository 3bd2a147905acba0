import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LiveDemoSummary } from '../../tools/lab/run-demo.js';
import { runRemediator } from '../helpers/remediator-process.js';
import { assertScenarioOutcome } from '../helpers/scenario-demo.js';

describe('remediator demo --once --json (the live lab, end to end)', () => {
  test('killing the Redis primary fails over through Prometheus, Alertmanager and one run, and the old primary is fenced when it returns', async () => {
    const demo = runRemediator(['demo', '--once', '--json'], {});
    const { code } = await demo.exited;
    const output = demo.output();
    assert.equal(code, 0, output.slice(-3000));
    const line =
      output
        .trim()
        .split('\n')
        .filter((text) => text.startsWith('{'))
        .at(-1) ?? '';
    const summary = JSON.parse(line) as LiveDemoSummary;
    assert.equal(summary.scenario, 'kill', 'kill is the default scenario');
    assertScenarioOutcome(summary, { promotions: 1 });
    assert.equal(summary.failoverRuns, 1, 'exactly one failover run');
    assert.equal(summary.alertFromAlertmanager, true, "the run's alert came through Alertmanager's receiver");
    assert.notEqual(summary.newPrimary, summary.oldPrimary);
    assert.equal(summary.newPrimaryAcceptsWrites, true);
    assert.equal(summary.oldPrimaryFenced, true, 'the old primary came back as a replica, not a second primary');
    assert.deepEqual(
      summary.steps.map((step) => [step.name, step.status]),
      [
        ['promote', 'succeeded'],
        ['verify', 'succeeded'],
      ],
    );
    assert.ok(Number.isFinite(summary.rtoSeconds) && summary.rtoSeconds > 0, `RTO reported: ${summary.rtoSeconds}`);
    assert.ok(summary.detectionSeconds > 0 && summary.detectionSeconds <= summary.rtoSeconds, 'detection happens before recovery');
    const whats = summary.events.map((event) => event.what);
    for (const expected of [
      'fault: cache-a (primary) killed',
      'webhook received from Alertmanager',
      'run started',
      'step promote succeeded',
      'step verify succeeded',
      'PrimaryUnreachable resolved for cache-a (webhook received)',
      'cache-a fenced (now a replica)',
    ]) {
      assert.ok(whats.includes(expected), `timeline has "${expected}": ${whats.join(' | ')}`);
    }
  });
});
