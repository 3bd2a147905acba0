import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunData } from '../../src/core/run-data.js';
import { replication } from '../helpers/redis-failover.js';
import { primaryUnreachableLabels } from '../helpers/webhook.js';
import { waitFor } from '../helpers/wait.js';
import { replicasLostPrimary, startReconcileFixture, type ReconcileFixture } from './redis-cluster.js';

const password = 'hold-pw-7c2a';
const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;

describe('a maintenance hold with a TTL on a Redis cluster', () => {
  let fixture: ReconcileFixture;

  before(async () => {
    fixture = await startReconcileFixture({ settings: { adminPassword: password } });
  });

  after(async () => {
    await fixture.stop();
  });

  test("keeps a SIGKILLed primary from being failed over while it lasts (the run skipped with the hold's reason), and the failover happens once it expires", async () => {
    const { cluster, am, app } = fixture;
    const { a, b, c } = cluster;
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${app.service.url ?? ''}${path}`, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const runs = () => fixture.runs('redis-primary-failover');

    const held = await call('POST', '/api/holds', { target: 'cache', ttl: '5s', reason: 'patching cache-a' });
    assert.equal(held.status, 201, JSON.stringify(held.body));
    const until = Date.parse(String(held.body.until));

    await a.crash();
    await replicasLostPrimary(cluster);
    await am.postAlerts([{ labels: primaryUnreachableLabels('cache', 'cache-a') }]);
    const skipped = await waitFor('the run to be skipped by the hold', async () =>
      (await runs()).find((job) => job.finishedOn !== undefined && job.data.skip !== undefined),
    );
    const skip = skipped.data.skip as NonNullable<RunData['skip']>;
    assert.equal(skip.kind, 'hold');
    assert.match(skip.reason, /target cache is held until .*: patching cache-a/);
    assert.ok(Date.now() < until, 'the run was skipped while the hold was in force');

    // Nothing fails over while the hold lasts, although the loop passes many times with the alert active.
    const passes = async () => (await app.service.metrics.reconcile.passes.get()).values.reduce((sum, value) => sum + value.value, 0);
    const seen = await passes();
    await waitFor('three more passes', async () => (await passes()) >= seen + 3, { timeoutMs: 10_000 });
    if (Date.now() < until) {
      assert.deepEqual(
        await Promise.all([b, c].map(async (server) => (await replication(server.client())).get('role'))),
        ['slave', 'slave'],
        'no promotion during the hold',
      );
      assert.equal((await runs()).filter((job) => job.data.skip === undefined).length, 0, 'no run acted during the hold');
    }

    // The hold expires by itself; the alert is still active, so the episode runs again and fails over.
    const promoted = await waitFor(
      'the failover after the hold expired',
      async () => (await runs()).find((job) => job.finishedOn !== undefined && job.data.skip === undefined),
      { timeoutMs: 20_000 },
    );
    assert.ok((promoted.processedOn ?? 0) >= until, 'not before the hold ended');
    assert.equal(await promoted.getState(), 'completed', JSON.stringify(promoted.data.steps));
    assert.deepEqual([promoted.data.source, promoted.data.attempt], ['alertmanager', 1]);
    assert.equal(promoted.data.alert.startsAt, skipped.data.alert.startsAt, 'the same episode');
    assert.equal((await replication(b.client())).get('role'), 'master');
    assert.equal((await call('GET', '/api/holds')).body.holds instanceof Array, true);
    assert.deepEqual((await call('GET', '/api/holds')).body.holds, [], 'the hold is gone');

    const audit = (await call('GET', '/api/audit')).body.entries as { action: string; user: string; target: string }[];
    assert.deepEqual(
      audit.map((entry) => [entry.action, entry.user, entry.target]),
      [['hold', 'admin', 'cache']],
    );
  });
});
