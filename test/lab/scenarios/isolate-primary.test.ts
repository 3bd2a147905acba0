import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isolatePrimaryScenario } from '../../../tools/lab/scenarios/index.js';
import { assertScenarioOutcome, runScenarioDemo } from '../../helpers/scenario-demo.js';

describe('remediator demo --scenario isolate-primary (network namespaces)', () => {
  test(
    'a primary cut off from everyone fails over exactly once, and rejoins refusing writes until it is fenced',
    { timeout: 240_000 },
    async () => {
      const { summary } = await runScenarioDemo(isolatePrimaryScenario());
      assertScenarioOutcome(summary, { promotions: 1 });
      assert.equal(summary.mode, 'live');
      assert.equal(summary.failoverRuns, 1);
      assert.equal(summary.oldPrimaryFenced, true, 'the healed primary was fenced');
      assert.equal(summary.finalRoles['cache-a'], `replica of ${summary.newPrimary}`);
    },
  );
});
