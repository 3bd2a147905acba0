import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lossyScenario } from '../../../tools/lab/scenarios/index.js';
import { assertScenarioOutcome, runScenarioDemo } from '../../helpers/scenario-demo.js';

describe('remediator demo --scenario lossy (network namespaces)', () => {
  test('30 % loss and 200 ms latency between remediator and the primary promote nobody', { timeout: 240_000 }, async () => {
    // 20 s rather than the CLI's 60: several scrapes and alert evaluations through the bad link, within the budget.
    const { summary } = await runScenarioDemo(lossyScenario({ lossyMs: 20_000 }));
    assertScenarioOutcome(summary, { promotions: 0 });
    assert.equal(summary.mode, 'held');
    assert.equal(summary.oldPrimaryStillPrimary, true, JSON.stringify(summary.finalRoles));
  });
});
