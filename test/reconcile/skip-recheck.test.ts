import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'bullmq';
import type { RunData } from '../../src/core/run-data.js';
import { replication } from '../helpers/redis-failover.js';
import { primaryUnreachableLabels } from '../helpers/webhook.js';
import { waitFor } from '../helpers/wait.js';
import { replicasLostPrimary, startReconcileFixture, type ReconcileFixture } from './redis-cluster.js';

describe('an alert that stays active after a step skipped its run', () => {
  let fixture: ReconcileFixture;

  before(async () => {
    fixture = await startReconcileFixture({ budget: '{ maxRuns: 2, window: 1h }' });
  });

  after(async () => {
    await fixture.stop();
  });

  test('is run again while the death of a hung primary is unconfirmed (skipped each time, never spending the budget), and fails over once it really dies, with one notification', async () => {
    const { cluster, am, app } = fixture;
    const { a, b } = cluster;
    const runs = async () => (await fixture.runs('redis-primary-failover')).sort((x, y) => (x.data.attempt ?? 0) - (y.data.attempt ?? 0));
    const finished = async (attempt: number): Promise<Job<RunData> | undefined> =>
      (await runs()).find((job) => (job.data.attempt ?? 0) === attempt && job.finishedOn !== undefined);

    // The primary hangs (SIGSTOP): remediator's probes get no answer, but its replicas heard from it within their
    // keepalive, so its death is not confirmed and the run is skipped.
    process.kill(a.process().pid, 'SIGSTOP');
    await am.postAlerts([{ labels: primaryUnreachableLabels('cache', 'cache-a') }]);
    const first = await waitFor('the first run to be skipped', () => finished(0), { timeoutMs: 15_000 });
    assert.equal(first.data.skip?.kind, 'primary-reachable-from-replicas', JSON.stringify(first.data.skip));
    // The alert stays active and Alertmanager notifies nothing more; the loop runs the episode again, skipped again.
    const second = await waitFor('the first recheck', () => finished(1), { timeoutMs: 15_000 });
    assert.deepEqual([second.data.source, second.data.skip?.kind], ['alertmanager', 'primary-reachable-from-replicas']);
    assert.equal(second.data.alert.fingerprint, first.data.alert.fingerprint);
    assert.equal(second.data.alert.startsAt, first.data.alert.startsAt, 'the same episode');
    assert.ok((second.processedOn ?? 0) - (first.finishedOn ?? 0) >= 1000, 'not before recheckAfter');

    // Now it really dies: the next recheck confirms the death and fails over, although the budget allows 2 runs.
    await a.crash();
    await replicasLostPrimary(cluster);
    const promoted = await waitFor(
      'a recheck that fails over',
      async () => (await runs()).find((job) => job.finishedOn !== undefined && job.data.skip === undefined),
      { timeoutMs: 20_000 },
    );
    assert.equal(await promoted.getState(), 'completed', JSON.stringify(promoted.data.steps));
    assert.ok((promoted.data.attempt ?? 0) >= 2, `attempt ${String(promoted.data.attempt)}`);
    assert.deepEqual((promoted.data.steps[0]?.output as { promoted?: boolean }).promoted, true);
    assert.equal((await replication(b.client())).get('role'), 'master');
    const accepted = (await app.service.metrics.webhookRequests.get()).values.find((value) => value.labels.outcome === 'accepted')?.value;
    assert.equal(accepted, 1, 'Alertmanager notified once');

    // It succeeded: nothing is run again.
    const count = (await runs()).length;
    const passes = async () => (await app.service.metrics.reconcile.passes.get()).values.reduce((sum, value) => sum + value.value, 0);
    const seen = await passes();
    await waitFor('five more passes', async () => (await passes()) >= seen + 5, { timeoutMs: 10_000 });
    assert.equal((await runs()).length, count);
  });
});
