import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { partitionRemediatorScenario } from '../../../tools/lab/scenarios/index.js';
import { assertScenarioOutcome, runScenarioDemo } from '../../helpers/scenario-demo.js';

describe('remediator demo --scenario partition-remediator (network namespaces)', () => {
  test(
    'remediator cut off from a primary its replicas still see promotes nobody, and the run is skipped naming why',
    { timeout: 240_000 },
    async () => {
      const { summary } = await runScenarioDemo(partitionRemediatorScenario());
      assertScenarioOutcome(summary, { promotions: 0 });
      assert.equal(summary.mode, 'held');
      assert.ok(summary.failoverRuns >= 1, 'the alert fired and a failover run decided');
      const skip = summary.skips.find((candidate) => candidate.phase === 'remediate');
      assert.equal(skip?.kind, 'primary-reachable-from-replicas', JSON.stringify(summary.skips));
      assert.match(skip.reason, /cache-b|cache-c/, 'the reason names the replicas that still see the primary');
      assert.equal(summary.oldPrimaryStillPrimary, true, JSON.stringify(summary.finalRoles));
    },
  );
});
