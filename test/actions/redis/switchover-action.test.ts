import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RunSkip, type ActionDefinition } from '../../../src/core/action.js';
import { createRedisSwitchoverAction } from '../../../src/actions/redis/switchover-action.js';
import { errorCodes } from '../../../src/core/errors/index.js';
import { infoNumber } from '../../../src/inventory/redis-info.js';
import { createPrimaryRecord } from '../../../src/state/primary-record.js';
import { appError } from '../../helpers/action-run.js';
import { redisInventoryOf, replication, synced } from '../../helpers/redis-failover.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { startSteadyWriter } from '../../helpers/redis-writer.js';
import { waitFor } from '../../helpers/wait.js';

/** What redis.switchover returns. */
interface SwitchoverOutput {
  from: string;
  to: string;
  mode: string;
  changed: boolean;
  writePauseMs?: number;
  lagBytesBefore?: number;
  lostBytes?: number;
  note?: string;
  fenced?: string[];
  repointed: string[];
}

const logger = pino({ level: 'silent' });

/** Runs redis.switchover on cluster `cache` as the runner would; the same `runId` stands for a retry of one run. */
async function runSwitchover(
  action: ActionDefinition,
  withBlock: Record<string, unknown>,
  runId = randomUUID(),
): Promise<SwitchoverOutput> {
  const output = await action.run(action.schema.parse({ cluster: 'cache', ...withBlock }), {
    logger,
    signal: new AbortController().signal,
    runId,
  });
  return output as unknown as SwitchoverOutput;
}

/** An assert.rejects predicate: the run ends skipped as switchover-refused with a reason matching `pattern`. */
function refused(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RunSkip, `expected a skipped run, got ${String(error)}`);
    assert.equal(error.kind, 'switchover-refused');
    assert.match(error.message, pattern);
    return true;
  };
}

/** A client that gives up after 2 s: a write to a paused primary fails instead of waiting for the pause to end. */
function impatient(server: TestRedis): Redis {
  const client = new Redis(server.url, { commandTimeout: 2000, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  return client;
}

describe('redis.switchover against real redis-server processes', () => {
  const servers: TestRedis[] = [];
  const closing: Redis[] = [];
  const start = async () => {
    const server = await startRedis();
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    for (const client of closing.splice(0)) client.disconnect();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  async function trio() {
    const p = await start();
    const a = await startRedis({ replicaOf: p.port });
    const b = await startRedis({ replicaOf: p.port });
    servers.push(a, b);
    const clients = { p: p.client(), a: a.client(), b: b.client() };
    for (let i = 0; i < 100; i++) await clients.p.set(`key-${i}`, `value-${i}`);
    await synced(clients.p, [clients.a, clients.b]);
    const state = await start();
    const record = createPrimaryRecord(state.client());
    const action = createRedisSwitchoverAction({
      inventory: redisInventoryOf({ 'cache-p': { redis: p }, 'cache-a': { redis: a }, 'cache-b': { redis: b } }),
      record,
    });
    return { p, a, b, clients, record, action };
  }

  /** Makes `replica` fall behind: it keeps receiving the stream but applies nothing while its writes are paused. */
  async function lagging(primary: Redis, replica: Redis, bytes: number): Promise<void> {
    await replica.call('CLIENT', 'PAUSE', '60000', 'WRITE');
    const chunk = 'x'.repeat(16 * 1024);
    for (let i = 0; i * chunk.length <= bytes; i++) await primary.set(`lag-${i}`, chunk);
    await waitFor('the replica to be behind', async () => {
      const applied = infoNumber(await replication(replica), 'slave_repl_offset');
      return infoNumber(await replication(primary), 'master_repl_offset') - applied > bytes;
    });
  }

  /** Both replicas replicate from `primary` with their link up. */
  async function follow(primary: TestRedis, replicas: Redis[]): Promise<void> {
    for (const replica of replicas) {
      const info = await replication(replica);
      assert.deepEqual([info.get('role'), info.get('master_port'), info.get('master_link_status')], ['slave', String(primary.port), 'up']);
    }
  }

  test('a switchover under a steady write load keeps every acknowledged write, and the old primary and the other replica follow the new one', async (t) => {
    const { p, a, b, clients, record, action } = await trio();
    const writer = startSteadyWriter(
      [
        { name: 'cache-p', client: p.client() },
        { name: 'cache-a', client: a.client() },
        { name: 'cache-b', client: b.client() },
      ],
      { prefix: 'steady', maxWrites: 100_000, maxMs: 60_000 },
    );
    await waitFor('writes on the old primary', () => writer.count() >= 300);
    const result = await runSwitchover(action, { to: 'cache-a' });
    const atSwitch = writer.count();
    await waitFor('writes on the new primary', () => writer.count() >= atSwitch + 300, 20_000);
    const report = await writer.stop();

    assert.deepEqual([result.from, result.to, result.mode, result.changed], ['cache-p', 'cache-a', 'planned', true]);
    assert.ok(result.writePauseMs !== undefined && result.writePauseMs > 0, `writePauseMs: ${String(result.writePauseMs)}`);
    assert.equal(await record.get('cache'), 'cache-a');
    assert.equal(report.lastPrimary, 'cache-a', 'the writer followed the switch');
    const missing: string[] = [];
    for (let i = 0; i < report.acknowledged.length; i += 1000) {
      const keys = report.acknowledged.slice(i, i + 1000);
      const values = await clients.a.mget(keys);
      keys.forEach((key, at) => {
        if (values[at] !== key.slice('steady:'.length)) missing.push(key);
      });
    }
    assert.deepEqual(missing, [], 'every acknowledged write is on the new primary');
    await follow(a, [clients.p, clients.b]);
    await assert.rejects(clients.p.set('x', 'y'), /READONLY/, 'the old primary refuses writes');
    t.diagnostic(
      `write pause ${result.writePauseMs} ms (lag before ${String(result.lagBytesBefore)} bytes); writer: ${report.acknowledged.length} writes, ` +
        `longest gap between acknowledged writes ${report.longestGapMs} ms, ${report.errors} refused and retried`,
    );
  });

  test('a candidate that is behind when writes stop is waited for: every write the old primary acknowledged is on the new one', async () => {
    const { clients, action } = await trio();
    // cache-a receives the stream but applies nothing for 1 s: the writes below are acknowledged and not on it yet.
    await clients.a.call('CLIENT', 'PAUSE', '1000', 'WRITE');
    for (let i = 0; i < 50; i++) await clients.p.set(`behind-${i}`, String(i));
    const lag =
      infoNumber(await replication(clients.p), 'master_repl_offset') - infoNumber(await replication(clients.a), 'slave_repl_offset');
    assert.ok(lag > 0, 'cache-a is behind when the switchover starts');
    const result = await runSwitchover(action, { to: 'cache-a' });
    assert.equal(result.to, 'cache-a');
    assert.ok((result.lagBytesBefore ?? 0) > 0, `lagBytesBefore: ${String(result.lagBytesBefore)}`);
    const values = await clients.a.mget(Array.from({ length: 50 }, (_, i) => `behind-${i}`));
    assert.deepEqual(
      values,
      Array.from({ length: 50 }, (_, i) => String(i)),
    );
  });

  test('a switchover to a lagging replica is refused with the reason, and the primary still takes writes with no pause left', async () => {
    const { p, clients, action, record } = await trio();
    await lagging(clients.p, clients.b, 64 * 1024);
    try {
      await assert.rejects(
        runSwitchover(action, { to: 'cache-b', maxLagBytes: 4096 }),
        refused(/cache-b is \d+ bytes behind cache-p \(max 4096\)/),
      );
      const writer = impatient(p);
      closing.push(writer);
      assert.equal(await writer.set('after-refusal', '1'), 'OK', 'the primary is not paused');
      assert.equal((await replication(clients.p)).get('role'), 'master');
      assert.equal((await replication(clients.b)).get('master_port'), String(p.port));
      assert.equal(await record.get('cache'), undefined, 'nothing was recorded');
    } finally {
      await clients.b.call('CLIENT', 'UNPAUSE');
    }
  });

  test('a candidate that does not catch up within maxPause fails the step clearly and writes resume on the old primary', async () => {
    const { p, clients, action } = await trio();
    await lagging(clients.p, clients.b, 64 * 1024);
    try {
      await assert.rejects(
        runSwitchover(action, { to: 'cache-b', maxLagBytes: 1024 * 1024, maxPause: '300ms' }),
        appError(errorCodes.STEP_FAILED, /cache-b did not catch up with cache-p within maxPause \(300 ms\)/, /writes resumed on cache-p/),
      );
      const writer = impatient(p);
      closing.push(writer);
      assert.equal(await writer.set('after-timeout', '1'), 'OK', 'the pause was lifted');
      assert.equal((await replication(clients.b)).get('role'), 'slave', 'nothing was promoted');
    } finally {
      await clients.b.call('CLIENT', 'UNPAUSE');
    }
  });

  test('when the new primary cannot be recorded nothing is promoted and writes resume on the old primary', async () => {
    const { p, a, b, clients } = await trio();
    const action = createRedisSwitchoverAction({
      inventory: redisInventoryOf({ 'cache-p': { redis: p }, 'cache-a': { redis: a }, 'cache-b': { redis: b } }),
      record: {
        get: () => Promise.resolve(undefined),
        set: () => Promise.reject(new Error("remediator's Redis is gone")),
      },
    });
    await assert.rejects(runSwitchover(action, { to: 'cache-a' }), /remediator's Redis is gone/);
    const writer = impatient(p);
    closing.push(writer);
    assert.equal(await writer.set('after-failed-record', '1'), 'OK', 'the pause was lifted');
    assert.equal((await replication(clients.a)).get('role'), 'slave', 'nothing was promoted');
  });

  test('a switchover to the member that is already primary is a no-op success that says so', async () => {
    const { clients, action } = await trio();
    const result = await runSwitchover(action, { to: 'cache-p' });
    assert.deepEqual([result.from, result.to, result.changed], ['cache-p', 'cache-p', false]);
    assert.match(result.note ?? '', /cache-p already is the primary/);
    assert.equal((await replication(clients.p)).get('role'), 'master');
  });

  test('an unknown member is refused, and caught at load time when written literally', async () => {
    const { clients, action } = await trio();
    const checkRaw = action.checkRaw?.bind(action);
    assert.ok(checkRaw);
    assert.deepEqual(
      checkRaw({ cluster: 'cache', to: 'cache-z' }).map((problem) => problem.path),
      [['to']],
    );
    assert.deepEqual(checkRaw({ cluster: 'cache', to: '{{ labels.to }}' }), [], 'a templated member is checked when the step runs');
    await assert.rejects(runSwitchover(action, { to: 'cache-z' }), refused(/no member "cache-z" in cluster cache/));
    assert.equal((await replication(clients.p)).get('role'), 'master');
  });

  test('with no primary answering the switchover is refused: that is a failover', async () => {
    const { p, clients, action } = await trio();
    await p.crash();
    await assert.rejects(runSwitchover(action, {}), refused(/no primary of cache answers/));
    assert.deepEqual(
      [(await replication(clients.a)).get('role'), (await replication(clients.b)).get('role')],
      ['slave', 'slave'],
      'nothing was promoted',
    );
  });

  test('a rerun of a completed switchover converges on the member it promoted instead of switching again', async () => {
    const { clients, action } = await trio();
    const runId = randomUUID();
    const first = await runSwitchover(action, {}, runId);
    assert.equal(first.from, 'cache-p');
    const again = await runSwitchover(action, {}, runId);
    assert.deepEqual([again.from, again.to, again.changed], [first.to, first.to, false]);
    const primary = first.to === 'cache-a' ? clients.a : clients.b;
    assert.equal((await replication(primary)).get('role'), 'master');
  });

  test('a switchover interrupted after the promotion is completed by a rerun: the paused old primary is fenced and released', async () => {
    const { p, a, clients, record, action } = await trio();
    // What a run that died right after promoting leaves: cache-a recorded and primary, cache-p still primary and paused.
    await clients.p.call('CLIENT', 'PAUSE', '60000', 'WRITE');
    await record.set('cache', 'cache-a');
    await clients.a.call('REPLICAOF', 'NO', 'ONE');
    const result = await runSwitchover(action, {});
    assert.deepEqual([result.to, result.fenced, result.repointed], ['cache-a', ['cache-p'], ['cache-b']]);
    await follow(a, [clients.p, clients.b]);
    const old = impatient(p);
    closing.push(old);
    await assert.rejects(old.set('x', 'y'), /READONLY/, 'the old primary is released from its pause and refuses writes');
  });

  test('unplanned mode promotes at once, without waiting for the candidate to catch up, and reports the bytes lost', async () => {
    const { b, clients, action } = await trio();
    await lagging(clients.p, clients.b, 64 * 1024);
    try {
      const result = await runSwitchover(action, { to: 'cache-b', mode: 'unplanned', maxLagBytes: 1024 * 1024, maxPause: '300ms' });
      assert.deepEqual([result.from, result.to, result.mode], ['cache-p', 'cache-b', 'unplanned']);
      assert.ok(result.lostBytes !== undefined && result.lostBytes > 64 * 1024, `lostBytes: ${String(result.lostBytes)}`);
      assert.equal((await replication(clients.b)).get('role'), 'master');
      await follow(b, [clients.p, clients.a]);
    } finally {
      await clients.b.call('CLIENT', 'UNPAUSE');
    }
    // Both resynced in full from cache-b; a Redis 7.0 server refuses SIGTERM while it writes its initial AOF afterwards.
    await waitFor('the resynced members to finish their AOF rewrite', async () => {
      const states = await Promise.all([clients.p.info('persistence'), clients.a.info('persistence')]);
      return states.every((info) => /aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info));
    });
  });
});
