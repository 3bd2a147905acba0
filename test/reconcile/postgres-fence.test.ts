import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseInventorySource } from '../../src/inventory/load-inventory.js';
import { createPostgresSandbox, type PostgresSandbox, type PostgresServer } from '../helpers/postgres.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';
import { waitFor } from '../helpers/wait.js';
import { crash, startNotesCluster } from '../actions/postgres/notes-cluster.js';

const intervalMs = 1000;

/** The example PostgreSQL failover without its guards (no Prometheus here). */
const failoverPlaybook = `
name: postgres-primary-failover
match: '{alertname="PrimaryUnreachable", service="postgres"}'
target: '{{ labels.cluster }}'
steps:
  - name: promote
    action: postgres.promote
    with: { cluster: '{{ labels.cluster }}' }
`;

describe('the reconcile loop fencing a returning PostgreSQL primary by live roles', () => {
  let sandbox: PostgresSandbox;
  let a: PostgresServer;
  let b: PostgresServer;
  let app: TestService;
  let redis: TestRedis;

  before(async () => {
    redis = await startRedis();
    sandbox = await createPostgresSandbox();
    const { primary, standbys } = await startNotesCluster(sandbox, ['pg-b'], ["wal_receiver_timeout = '5s'"]);
    [a, b] = [primary, ...standbys] as [PostgresServer, PostgresServer];
    const inventory = parseInventorySource(
      'inventory.yaml',
      `clusters:
  db:
    kind: postgres
    database: postgres
    credentials: { username: ${sandbox.user}, passwordEnv: PG_PASSWORD }
    members:
      - { name: pg-a, address: "${a.address}" }
      - { name: pg-b, address: "${b.address}" }
`,
      () => sandbox.password,
    );
    if (!inventory.success) assert.fail(JSON.stringify(inventory.problems));
    app = await startTestService({
      redisUrl: redis.url,
      playbooks: { 'postgres-primary-failover.yaml': failoverPlaybook },
      inventory: inventory.inventory,
      // A PostgreSQL probe logs in (SCRAM) on a fresh connection: on a loaded machine that may take over a second.
      reconcile: { intervalMs, leaseTtlMs: 3000, alertmanagerWarmupMs: 120_000, probeTimeoutMs: 3000 },
    });
  });

  after(async () => {
    await app.close();
    await sandbox.cleanup();
    await redis.stop();
  });

  test('the old primary back writable on its old timeline is fenced read-only once, by a recorded run, with no notification', async (t) => {
    const jobs = () => app.service.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized']);
    await crash(a, [b]);
    const labels = { alertname: 'PrimaryUnreachable', cluster: 'db', service: 'postgres', instance: 'pg-a', role: 'primary' };
    assert.equal((await postWebhook(app.url, webhookBody([{ labels, startsAt: new Date().toISOString() }]))).status, 202);
    const failover = await waitFor(
      'the failover run',
      async () => (await jobs()).find((job) => job.data.playbook === 'postgres-primary-failover' && job.finishedOn !== undefined),
      { timeoutMs: 30_000 },
    );
    assert.equal(await failover.getState(), 'completed', JSON.stringify(failover.data.steps));

    await a.start();
    const writableAt = Date.now();
    const fence = await waitFor(
      'the fence run',
      async () => (await jobs()).find((job) => job.data.playbook === 'remediator-fence-postgres'),
      { timeoutMs: 15_000, intervalMs: 50 },
    ).catch((error: unknown) => {
      const lines = app.logs.filter((line) => /^(reconcile|exporter|postgres)/.test(String(line.msg)));
      throw new Error(`${String(error)}; the last lines of the loop and the probes: ${JSON.stringify(lines.slice(-12))}`);
    });
    const enqueuedAfterMs = Date.parse(fence.data.receivedAt) - writableAt;
    t.diagnostic(`fence enqueued ${enqueuedAfterMs} ms after the old primary came back (interval ${intervalMs} ms)`);
    assert.ok(enqueuedAfterMs <= 2 * intervalMs, `fence enqueued ${enqueuedAfterMs} ms after the old primary came back`);
    assert.deepEqual([fence.data.source, fence.data.alert.labels.instance], ['state', 'pg-a']);
    await waitFor('the fence run to finish', async () => (await app.service.queue.getJob(fence.id ?? ''))?.finishedOn, {
      timeoutMs: 30_000,
    });
    const finished = await app.service.queue.getJob(fence.id ?? '');
    assert.equal(await finished?.getState(), 'completed', JSON.stringify(finished?.data.steps));
    const [step] = finished?.data.steps ?? [];
    assert.ok(step);
    assert.deepEqual(
      [
        (step.output as { primary?: string }).primary,
        (step.output as { fenced?: string[] }).fenced,
        (step.output as { promoted?: boolean }).promoted,
      ],
      ['pg-b', ['pg-a'], false],
    );
    await assert.rejects(a.query("INSERT INTO notes (note) VALUES ('stale')"), /read-only transaction/);

    // Fenced, it reads as `fenced`, not as a second primary: later passes start no other fence.
    const passes = async () => (await app.service.metrics.reconcile.passes.get()).values.reduce((sum, value) => sum + value.value, 0);
    const seen = await passes();
    await waitFor('three more passes', async () => (await passes()) >= seen + 3, { timeoutMs: 15_000 });
    assert.equal((await jobs()).filter((job) => job.data.playbook === 'remediator-fence-postgres').length, 1);
    assert.equal((await app.service.metrics.reconcile.fences.get()).values.find((value) => value.labels.cluster === 'db')?.value, 1);
  });
});
