import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pauseScenario } from '../../../tools/lab/scenarios/index.js';
import { assertScenarioOutcome, runScenarioDemo } from '../../helpers/scenario-demo.js';

describe('remediator demo --scenario pause (SIGSTOP of the primary)', () => {
  test(
    'a primary paused longer than detection fails over exactly once, and wakes refusing writes until it is fenced',
    { timeout: 240_000 },
    async () => {
      // 20 s rather than the CLI's 40: longer than detection and confirmation, within the test-time budget.
      const { summary } = await runScenarioDemo(pauseScenario({ pauseMs: 20_000 }));
      assertScenarioOutcome(summary, { promotions: 1 });
      assert.equal(summary.mode, 'live');
      assert.equal(summary.oldPrimaryFenced, true, 'the woken primary was fenced');
      assert.equal(summary.finalRoles['cache-a'], `replica of ${summary.newPrimary}`);
    },
  );
});
