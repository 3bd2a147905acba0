import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pauseScenario } from '../../../tools/lab/scenarios/index.js';
import { assertScenarioOutcome, runScenarioDemo } from '../../helpers/scenario-demo.js';

describe('remediator demo --scenario blip (SIGSTOP of the primary for 3 s)', () => {
  test('a 3 s pause of the primary promotes nobody and leaves it the primary', { timeout: 180_000 }, async () => {
    const { summary } = await runScenarioDemo(pauseScenario({ blip: true }));
    assertScenarioOutcome(summary, { promotions: 0 });
    assert.equal(summary.mode, 'held');
    assert.equal(summary.oldPrimaryStillPrimary, true, JSON.stringify(summary.finalRoles));
  });
});
