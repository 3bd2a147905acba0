import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { parseInventorySource } from '../../src/inventory/load-inventory.js';
import { createPrimaryRecord } from '../../src/state/primary-record.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { runEnded } from '../helpers/run-end.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';
import { postWebhook, webhookBody } from '../helpers/webhook.js';

const shipped = new URL('../../remediations/multiple-primaries-fence.yaml', import.meta.url);

describe('the shipped multiple-primaries-fence playbook on a Redis cluster with two primaries', () => {
  const members = {} as Record<'cache-a' | 'cache-b' | 'cache-c', TestRedis>;
  let state: TestRedis;
  let app: TestService;

  before(async () => {
    state = await startRedis();
    [members['cache-a'], members['cache-b'], members['cache-c']] = await Promise.all([startRedis(), startRedis(), startRedis()]);
    const inventory = parseInventorySource(
      'inventory.yaml',
      `clusters:\n  cache:\n    kind: redis\n    members:\n${Object.entries(members)
        .map(([name, redis]) => `      - { name: ${name}, address: 127.0.0.1:${redis.port} }`)
        .join('\n')}\n`,
      () => '',
    );
    if (!inventory.success) assert.fail(JSON.stringify(inventory.problems));
    const primaryRecord = createPrimaryRecord(state.client());
    app = await startTestService({
      redisUrl: state.url,
      playbooks: { 'multiple-primaries-fence.yaml': await readFile(shipped, 'utf8') },
      actions: createDefaultActions({
        smtpUrl: undefined,
        smtpFrom: 'remediator@test',
        prometheusUrl: undefined,
        path: process.env.PATH,
        inventory: inventory.inventory,
        primaryRecord,
      }),
    });
    // cache-b is the primary remediator promoted last (recorded), cache-c follows it; cache-a, the old primary, is
    // back as a primary of its own, with fewer replicas than cache-b would need to win on that count alone.
    await primaryRecord.set('cache', 'cache-b');
    await members['cache-c'].client().call('REPLICAOF', '127.0.0.1', String(members['cache-b'].port));
  });
  after(async () => {
    await app.close();
    await Promise.all([state, ...Object.values(members)].map((redis) => redis.stop()));
  });

  test('MultiplePrimaries as the rule labels it fences the unrecorded primary, promotes nothing, and a second alert changes nothing', async () => {
    const labels = { alertname: 'MultiplePrimaries', cluster: 'cache', service: 'redis', severity: 'critical', remediation: 'auto' };
    const response = await postWebhook(app.url, webhookBody([{ labels }]));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    const runs = (response.body as { runs: { jobId: string; playbook: string }[] }).runs;
    assert.deepEqual(
      runs.map((run) => run.playbook),
      ['multiple-primaries-fence'],
    );
    const job = await runEnded(app, runs[0]?.jobId ?? '');
    assert.equal(job.data.skip, undefined);
    const output = job.data.steps[0]?.output as { primary: string; promoted: boolean; fenced: string[] };
    assert.deepEqual([output.primary, output.promoted, output.fenced], ['cache-b', false, ['cache-a']]);
    const role = async (name: keyof typeof members) => ((await members[name].client().call('ROLE')) as unknown[])[0];
    await waitFor('cache-a to follow cache-b', async () => (await role('cache-a')) === 'slave');
    assert.equal(await role('cache-b'), 'master');

    const again = await postWebhook(app.url, webhookBody([{ labels, startsAt: new Date(Date.now() + 1000).toISOString() }]));
    const second = await runEnded(app, (again.body as { runs: { jobId: string }[] }).runs[0]?.jobId ?? '');
    const unchanged = second.data.steps[0]?.output as { changed: boolean; fenced: string[] };
    assert.deepEqual([unchanged.changed, unchanged.fenced], [false, []], 'a healthy cluster is left as it is');
  });
});
