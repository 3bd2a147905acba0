import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startRedis } from '../../tools/harness/redis-server.js';
import { startSteadyWriter } from '../../tools/harness/steady-writer.js';
import { waitFor } from '../../tools/harness/wait.js';

describe('startSteadyWriter, the harness write load', () => {
  test('it writes only to the member that is primary, stops at maxWrites, and every key it reports acknowledged is there', async (t) => {
    const primary = await startRedis();
    t.after(() => primary.stop());
    const replica = await startRedis({ replicaOf: primary.port });
    t.after(() => replica.stop());
    const writer = startSteadyWriter(
      [
        { name: 'replica', client: replica.client() },
        { name: 'primary', client: primary.client() },
      ],
      { prefix: 'steady', maxWrites: 200, maxMs: 20_000 },
    );
    await waitFor('the writer to reach maxWrites', () => writer.count() === 200);
    const report = await writer.stop();
    assert.deepEqual([report.acknowledged.length, report.lastPrimary, report.errors], [200, 'primary', 0]);
    const values = await primary.client().mget(report.acknowledged);
    assert.deepEqual(
      values,
      report.acknowledged.map((_key, index) => String(index)),
    );
  });
});
