import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startRemediatorProcess, type RemediatorProcess } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';
import { waitFor } from '../helpers/wait.js';

const leaseTtlMs = 2000;

/** remediator_reconcile_leader of one process, from its /metrics. */
async function leads(process: RemediatorProcess): Promise<number> {
  const text = await (await fetch(`${process.url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith('remediator_reconcile_leader '));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

/** When a process last logged that it took the loop over (its log's ISO `time`), if it did. */
function tookOverAt(process: RemediatorProcess): number | undefined {
  const lines = process
    .output()
    .split('\n')
    .filter((line) => line.includes('reconcile: this process runs the loop'));
  const last = lines.at(-1);
  return last === undefined ? undefined : Date.parse((JSON.parse(last) as { time: string }).time);
}

describe('two remediator replicas on one queue', () => {
  let redis: TestRedis;
  let playbooks: Awaited<ReturnType<typeof writePlaybooks>>;
  const replicas: RemediatorProcess[] = [];

  before(async () => {
    redis = await startRedis();
    playbooks = await writePlaybooks({ 'note-down.yaml': noteDownPlaybook });
    const env = {
      REDIS_URL: redis.url,
      QUEUE_NAME: 'lease-test',
      REMEDIATIONS_DIR: playbooks.dir,
      RECONCILE_INTERVAL: '500ms',
      RECONCILE_LEASE_TTL: `${leaseTtlMs}ms`,
    };
    replicas.push(...(await Promise.all([startRemediatorProcess(env), startRemediatorProcess(env)])));
  });

  after(async () => {
    for (const replica of replicas) await replica.stop();
    await playbooks.remove();
    await redis.stop();
  });

  test('run one reconcile loop at a time, and a SIGKILL of its holder moves it to the other within the lease TTL', async (t) => {
    await waitFor('a leader', async () => (await Promise.all(replicas.map(leads))).includes(1));
    for (let sample = 0; sample < 10; sample++) {
      const leaders = await Promise.all(replicas.map(leads));
      assert.deepEqual([...leaders].sort(), [0, 1], `one leader at sample ${sample}: ${leaders.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const leaders = await Promise.all(replicas.map(leads));
    const holder = replicas[leaders.indexOf(1)];
    const other = replicas[leaders.indexOf(0)];
    assert.ok(holder && other);
    const passes = async (process: RemediatorProcess) => {
      const text = await (await fetch(`${process.url}/metrics`)).text();
      return text
        .split('\n')
        .filter((line) => line.startsWith('remediator_reconcile_passes_total{'))
        .reduce((sum, line) => sum + Number(line.split(' ')[1]), 0);
    };
    assert.equal(await passes(other), 0, 'the follower runs no pass');
    assert.ok((await passes(holder)) > 0);

    const killedAt = Date.now();
    await holder.kill();
    await waitFor('the other replica to take the loop over', async () => (await leads(other)) === 1, { timeoutMs: 10_000, intervalMs: 50 });
    const tookOver = tookOverAt(other);
    assert.ok(tookOver !== undefined, other.output());
    // The lease lapses at most its TTL after the holder's last renewal, which came before the kill; the follower
    // tries again the millisecond it would lapse. 300 ms covers its timer firing late on a loaded machine (three
    // test files at once on two cores), one round trip to Redis and the log line.
    t.diagnostic(`took over ${tookOver - killedAt} ms after the kill (lease TTL ${leaseTtlMs} ms)`);
    assert.ok(tookOver - killedAt <= leaseTtlMs + 300, `took over ${tookOver - killedAt} ms after the kill`);
    await waitFor('a pass by the new holder', async () => (await passes(other)) > 0);
  });
});
