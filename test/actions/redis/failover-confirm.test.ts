import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterEach, describe, test } from 'node:test';
import { createRedisFailoverAction } from '../../../src/actions/redis/failover-action.js';
import { RunSkip } from '../../../src/core/action.js';
import { infoNumber } from '../../../src/inventory/redis-info.js';
import { redisInventoryOf, replication, runFailover, synced } from '../../helpers/redis-failover.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait.js';

/** What a skipped confirmation left in the run: its kind, reason and record. */
function skipOf(error: unknown): { kind: string; reason: string; seeing: string[]; lost: string[]; rounds: unknown[] } {
  assert.ok(error instanceof RunSkip, `expected the run to be skipped, got ${String(error)}`);
  const confirmation = error.details.confirmation as { seeing: string[]; lost: string[]; rounds: unknown[] };
  return { kind: error.kind, reason: error.message, ...confirmation };
}

/** Stopped (SIGSTOP) and continued: a hung process that still completes TCP handshakes from its backlog. */
const stopProcess = (server: TestRedis) => process.kill(server.process().pid, 'SIGSTOP');
const continueProcess = (server: TestRedis) => process.kill(server.process().pid, 'SIGCONT');

describe('redis.failover confirms the primary dead before promoting (real redis-server processes)', () => {
  const servers: TestRedis[] = [];
  afterEach(async () => {
    for (const server of servers) if (server.process().running()) continueProcess(server);
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });

  /**
   * A primary and two replicas. `lab`: every member runs as docs/actions.md recommends (the primary pings its
   * replicas every second and refuses writes without a replica acknowledging within 2 s).
   */
  async function trio(lab = false) {
    const settings = lab ? ['--repl-ping-replica-period', '1', '--min-replicas-to-write', '1', '--min-replicas-max-lag', '2'] : [];
    const start = async (args: string[]) => {
      const server = await startRedis({ args: [...settings, ...args] });
      servers.push(server);
      return server;
    };
    const p = await start([]);
    const a = await start(['--replicaof', '127.0.0.1', String(p.port)]);
    const b = await start(['--replicaof', '127.0.0.1', String(p.port)]);
    const clients = { p: p.client(), a: a.client(), b: b.client() };
    await synced(clients.p, [clients.a, clients.b]);
    for (let i = 0; i < 50; i++) await clients.p.set(`key-${i}`, `value-${i}`);
    await synced(clients.p, [clients.a, clients.b]);
    const action = createRedisFailoverAction({
      inventory: redisInventoryOf({ 'cache-p': { redis: p }, 'cache-a': { redis: a }, 'cache-b': { redis: b, priority: 10 } }),
    });
    return { p, a, b, clients, action };
  }

  const roles = async (clients: Record<string, Redis>): Promise<Record<string, string | undefined>> =>
    Object.fromEntries(
      await Promise.all(Object.entries(clients).map(async ([name, client]) => [name, (await replication(client)).get('role')] as const)),
    );

  test('a killed primary is confirmed dead by remediator and both replicas over the window, then the best replica is promoted and protected', async (t) => {
    const { p, clients, action } = await trio();
    await p.crash();
    const started = Date.now();
    const result = await runFailover(action, {});
    t.diagnostic(
      `crash → promoted in ${Date.now() - started} ms; rounds at ${result.confirmation?.rounds.map((round) => round.afterMs).join(', ')} ms`,
    );

    assert.deepEqual([result.primary, result.promoted, result.repointed], ['cache-b', true, ['cache-a']]);
    const confirmation = result.confirmation;
    assert.ok(confirmation, 'the confirmation is in the step output');
    assert.deepEqual([confirmation.primary, confirmation.confirmed, confirmation.lost], ['cache-p', true, ['cache-a', 'cache-b']]);
    assert.equal(confirmation.rounds.length, 4, 'the default 4 probes');
    for (const round of confirmation.rounds) {
      assert.match(round.primary, /ECONNREFUSED/);
      assert.match(round.witnesses['cache-a'] ?? '', /^link down \d+ s$/);
    }

    // protect: the new primary refuses writes once no replica acknowledges it.
    assert.deepEqual(result.protection, { applied: true, minReplicasToWrite: 1, maxLagSeconds: 10 });
    assert.deepEqual(await clients.b.call('CONFIG', 'GET', 'min-replicas-to-write'), ['min-replicas-to-write', '1']);
    await waitFor('cache-a to follow cache-b', async () => (await replication(clients.b)).get('connected_slaves') === '1');
    assert.equal(await clients.b.set('after-failover', 'yes'), 'OK', 'with its replica it takes writes');
    await servers[1]?.crash();
    await waitFor('cache-b to lose its replica', async () => (await replication(clients.b)).get('connected_slaves') === '0');
    await assert.rejects(clients.b.set('cut-off', 'no'), /NOREPLICAS/);
  });

  test('a primary killed a while ago (its replicas report the link down for longer than the window) is confirmed after two refused probes', async () => {
    const { p, clients, action } = await trio();
    await p.crash();
    // As when the alert arrives: by then the replicas have counted the link down for a few seconds.
    await waitFor(
      'both replicas to report the link down for 3 s',
      async () => {
        const infos = await Promise.all([replication(clients.a), replication(clients.b)]);
        return infos.every((info) => infoNumber(info, 'master_link_down_since_seconds') >= 3);
      },
      15_000,
    );
    const result = await runFailover(action, {});
    const confirmation = result.confirmation;
    assert.ok(confirmation, 'the confirmation is in the step output');
    assert.equal(confirmation.confirmed, true);
    assert.equal(confirmation.rounds.length, 2, 'refused twice, lost for the window by their own account: no need for the other rounds');
    assert.deepEqual([result.primary, result.promoted], ['cache-b', true]);
  });

  test('a stopped (SIGSTOP) primary whose replicas ping every second is confirmed dead through their silence and a replica is promoted; back, the old primary refuses writes', async (t) => {
    const { p, clients, action } = await trio(true);
    stopProcess(p);
    const stoppedAt = Date.now();
    // As the alert would: the run starts once the replicas' INFO shows the silence (more than the 1 s ping period).
    await waitFor('the replicas to hear nothing for more than a second', async () => {
      const infos = await Promise.all([replication(clients.a), replication(clients.b)]);
      return infos.every((info) => infoNumber(info, 'master_last_io_seconds_ago') > 1);
    });
    const started = Date.now();
    const result = await runFailover(action, {}).catch((error: unknown) => assert.fail(JSON.stringify((error as RunSkip).details)));
    t.diagnostic(`stopped → run started ${started - stoppedAt} ms, run took ${Date.now() - started} ms`);

    assert.deepEqual([result.primary, result.promoted, result.unreachable], ['cache-b', true, ['cache-p']]);
    const confirmation = result.confirmation;
    assert.ok(confirmation, 'the confirmation is in the step output');
    t.diagnostic(JSON.stringify(confirmation.rounds));
    assert.deepEqual(confirmation.lost, ['cache-a', 'cache-b']);
    for (const round of confirmation.rounds) {
      assert.match(round.primary, /connected, no answer within 250 ms/, 'the stopped process accepts the connection but never answers');
      assert.match(round.witnesses['cache-a'] ?? '', /^link up, last I\/O \d+ s ago \(ping period 1 s\)$/);
    }

    // Back, it still believes it is the primary, but its replicas left it: it refuses writes until it is fenced.
    continueProcess(p);
    await waitFor(
      'the old primary to notice its replicas left',
      async () => (await replication(clients.p)).get('connected_slaves') === '0',
    );
    assert.equal((await replication(clients.p)).get('role'), 'master');
    await assert.rejects(clients.p.set('stale', 'write'), /NOREPLICAS/);
    const fencing = await runFailover(action, { promote: false });
    assert.deepEqual(
      [fencing.primary, fencing.fenced, fencing.confirmation],
      ['cache-b', ['cache-p'], undefined],
      'fencing confirms nothing',
    );
  });

  test('a primary that does not answer remediator while its replicas still hear from it is not failed over: the run is skipped naming them', async () => {
    const { clients, action } = await trio();
    // Normal clients get no answer for 10 s while the replication links keep flowing: remediator's view differs from
    // the replicas', as when a network cut separates remediator from a live primary.
    await clients.p.call('CLIENT', 'PAUSE', '10000', 'ALL');
    const skip = await runFailover(action, { connectTimeout: '500ms' }).then(
      (output) => assert.fail(`expected a skip, got ${JSON.stringify(output)}`),
      skipOf,
    );
    assert.equal(skip.kind, 'primary-reachable-from-replicas');
    assert.match(skip.reason, /cache-p did not answer remediator, but only 0 of 2 replicas lost it/);
    assert.match(skip.reason, /cache-a, cache-b still see it/);
    assert.deepEqual([skip.seeing, skip.lost], [['cache-a', 'cache-b'], []]);
    assert.deepEqual(await roles({ a: clients.a, b: clients.b }), { a: 'slave', b: 'slave' }, 'nothing was promoted');
  });

  test('a primary stopped for 3 s while its death is being confirmed answers a later probe: skipped, nothing promoted', async () => {
    const { p, clients, action } = await trio(true);
    stopProcess(p);
    try {
      const run = runFailover(action, { connectTimeout: '500ms', confirm: { probes: 7, window: '6s' } }).then(
        (output) => assert.fail(`expected a skip, got ${JSON.stringify(output)}`),
        skipOf,
      );
      // The blip itself: the scenario is a 3 s stop, whatever the run is doing meanwhile.
      await delay(3000);
      continueProcess(p);
      const skip = await run;
      assert.equal(skip.kind, 'primary-reachable');
      assert.match(skip.reason, /cache-p answered remediator during confirmation \(answered \+PONG in \d+ ms\)/);
      assert.ok(skip.rounds.length < 7, 'the rounds stop at the first answer');
    } finally {
      continueProcess(p);
    }
    assert.deepEqual(await roles({ a: clients.a, b: clients.b }), { a: 'slave', b: 'slave' }, 'nothing was promoted');
  });
});
