import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { createConnection, createServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { RunSkip, type ActionDefinition } from '../../../src/core/action.js';
import { createRedisSentinelFailoverAction } from '../../../src/actions/redis/sentinel-failover-action.js';
import { errorCodes } from '../../../src/core/errors/index.js';
import { splitAddress } from '../../../src/inventory/inventory.js';
import { freePort } from '../../../src/util/free-port.js';
import { appError, runAction } from '../../helpers/action-run.js';
import { createRunMemory } from '../../../src/state/run-memory.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { startSentinels, type TestSentinels } from '../../helpers/redis-sentinel.js';
import { waitFor } from '../../helpers/wait.js';

interface FailoverOutput {
  masterName: string;
  previous: string;
  current: string;
  confirmation?: { lost: string[]; rounds: unknown[] };
  sentinels?: { lost: string[]; quorum: number };
}

/** A TCP forwarder on `port` to `target` (host:port), standing in for a sentinel that comes back. */
async function forward(port: number, target: string): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = createConnection(splitAddress(target));
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

const run = (action: ActionDefinition, withBlock: Record<string, unknown>, signal?: AbortSignal, runId?: string) =>
  runAction<FailoverOutput>(action, withBlock, signal, runId);

/** What the sentinels of `trio` report, for assertions. */
function sentinelViews(trio: () => TestSentinels) {
  const clients: Record<string, Redis> = {};
  const sentinelClient = (sentinel: string) => (clients[sentinel] ??= trio().client(sentinel));
  return {
    sentinelClient,
    /** What each sentinel reports as the master's address. */
    reportedMasters: () =>
      Promise.all(
        trio().sentinels.map(async (sentinel) => {
          const reply = (await sentinelClient(sentinel).call('SENTINEL', ['get-master-addr-by-name', trio().masterName])) as
            [string, string] | null;
          return reply ? `${reply[0]}:${reply[1]}` : null;
        }),
      ),
    /**
     * Waits until every sentinel has had no valid PING reply from the master for 3 s, as by the time the alert of a
     * crash arrives (PrimaryUnreachable needs 2 s): right after the crash a sentinel's `disconnected` flag comes and
     * goes while it reconnects, and a run started then may rightly find the sentinels undecided.
     */
    sentinelsLostMaster: () =>
      waitFor(
        'every sentinel to report no valid PING reply from the master for 3 s',
        async () => {
          const replies = await Promise.all(
            trio().sentinels.map(
              async (sentinel) => (await sentinelClient(sentinel).call('SENTINEL', ['MASTER', trio().masterName])) as string[],
            ),
          );
          return replies.every((flat) => Number(flat[flat.indexOf('last-ok-ping-reply') + 1]) >= 3000);
        },
        20_000,
        100,
      ),
    /** The master's config epoch as the first sentinel reports it: one more per completed failover. */
    configEpoch: async () => {
      const flat = (await sentinelClient(trio().sentinels[0] ?? '').call('SENTINEL', ['MASTER', trio().masterName])) as string[];
      return Number(flat[flat.indexOf('config-epoch') + 1]);
    },
  };
}

/** The skip a run ended with: its kind and reason. */
async function skipped(run: Promise<unknown>): Promise<RunSkip> {
  const error = await run.then(
    (output) => assert.fail(`expected a skip, got ${JSON.stringify(output)}`),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof RunSkip, `expected a skip, got ${String(error)}`);
  return error;
}

describe('redis.sentinel-failover action against a real sentinel trio', () => {
  const action = createRedisSentinelFailoverAction();
  let trio: TestSentinels;
  const { sentinelClient, reportedMasters, configEpoch } = sentinelViews(() => trio);

  before(async () => {
    trio = await startSentinels();
  });
  after(async () => {
    await trio.stop();
  });

  test('an unknown master name is a permanent error, even behind an unreachable sentinel', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    await assert.rejects(
      run(action, { sentinels: [dead, ...trio.sentinels], masterName: 'no-such-master', timeout: '5s' }),
      appError(errorCodes.STEP_PERMANENT, /monitors no master named "no-such-master"/),
    );
  });

  test('a live master is not failed over: the run is skipped primary-reachable and the sentinels keep it', async () => {
    const master = await trio.settled(2);
    const epoch = await configEpoch();
    const skip = await skipped(run(action, { sentinels: trio.sentinels, masterName: trio.masterName }));
    assert.equal(skip.kind, 'primary-reachable');
    assert.match(skip.message, new RegExp(`${master} answered remediator during confirmation \\(answered \\+PONG`));
    assert.deepEqual(await reportedMasters(), [master, master, master]);
    assert.equal(await configEpoch(), epoch, 'no failover happened');
  });

  test('a dead master without replicas cannot be confirmed dead: skipped death-unconfirmed, nothing asked of Sentinel', async (t) => {
    const lonely: TestRedis = await startRedis();
    const sentinel = trio.sentinels[0] ?? '';
    const client = trio.client(sentinel);
    t.after(async () => {
      await client.call('SENTINEL', ['REMOVE', 'lonely']).catch(() => undefined);
      await lonely.stop();
    });
    assert.equal(await client.call('SENTINEL', ['MONITOR', 'lonely', '127.0.0.1', String(lonely.port), '1']), 'OK');
    await lonely.crash();
    const skip = await skipped(run(action, { sentinels: [sentinel], masterName: 'lonely', timeout: '5s' }));
    assert.equal(skip.kind, 'death-unconfirmed');
    assert.match(skip.message, /nobody can confirm that it is dead/);
  });

  test('an already aborted step starts no failover and rejects with the abort reason', async () => {
    const before = await reportedMasters();
    const controller = new AbortController();
    const reason = new Error('shutting down');
    controller.abort(reason);
    await assert.rejects(
      run(action, { sentinels: trio.sentinels, masterName: trio.masterName }, controller.signal),
      (error: unknown) => error === reason,
    );
    assert.deepEqual(await reportedMasters(), before);
    const primary = trio.servers[0]?.address ?? '';
    assert.deepEqual(before, [primary, primary, primary]);
  });

  test('a failover Sentinel already carries out is waited for, not confirmed and not started a second time', async () => {
    const master = await trio.settled(2);
    const epoch = await configEpoch();
    assert.equal(await sentinelClient(trio.sentinels[0] ?? '').call('SENTINEL', ['FAILOVER', trio.masterName]), 'OK');
    const output = await run(action, { sentinels: trio.sentinels, masterName: trio.masterName, timeout: '30s' });
    assert.equal(output.previous, master, 'the action saw the master the running failover moves away from');
    assert.notEqual(output.current, master);
    assert.equal(output.confirmation, undefined, 'a failover Sentinel started is not ours to confirm');
    assert.equal(await configEpoch(), epoch + 1, 'exactly one failover happened');
  });
});

describe('redis.sentinel-failover action against a sentinel trio that would wait 60 s before failing over by itself', () => {
  const action = createRedisSentinelFailoverAction();
  let trio: TestSentinels;
  const { reportedMasters, configEpoch, sentinelsLostMaster } = sentinelViews(() => trio);

  before(async () => {
    trio = await startSentinels({ downAfterMs: 60_000 });
  });
  after(async () => {
    await trio.stop();
  });

  test('a master that answers neither remediator nor the sentinels while its replicas hear from it is not failed over: skipped naming the replicas', async () => {
    const [primary = '', ...replicas] = trio.servers.map((server) => server.address);
    const epoch = await configEpoch();
    // Normal clients (remediator, the sentinels) get no answer for 5 s; the replication links keep flowing.
    await trio.client(primary).call('CLIENT', ['PAUSE', '5000', 'ALL']);
    const skip = await skipped(run(action, { sentinels: trio.sentinels, masterName: trio.masterName }));
    assert.equal(skip.kind, 'primary-reachable-from-replicas');
    assert.match(skip.message, /but only 0 of 2 replicas lost it/);
    for (const replica of replicas) assert.match(skip.message, new RegExp(`${replica}.* still see it`), `${replica} is named`);
    await waitFor('the master to answer again', async () => (await trio.client(primary).ping()).length > 0, 10_000);
    assert.equal(await configEpoch(), epoch, 'no failover happened');
  });

  test('a crashed master confirmed dead by its replicas and the sentinels is failed over; back, it follows the new master', async () => {
    const [primary = '', ...replicas] = trio.servers.map((server) => server.address);
    await trio.crash(primary);
    await sentinelsLostMaster();
    const output = await run(action, { sentinels: trio.sentinels, masterName: trio.masterName, timeout: '30s' });
    assert.equal(output.previous, primary);
    assert.ok(replicas.includes(output.current), `the new master ${output.current} is one of the replicas ${replicas.join(', ')}`);
    assert.deepEqual(output.confirmation?.lost.toSorted(), replicas.toSorted(), 'both replicas lost it');
    assert.deepEqual(
      output.sentinels?.lost.toSorted(),
      trio.sentinels.map((sentinel) => `sentinel ${sentinel}`).toSorted(),
      'and the three sentinels',
    );

    // The action returned only once a majority agreed: at least 2 of 3 already report the new master now.
    const reports = await reportedMasters();
    assert.ok(reports.filter((report) => report === output.current).length >= 2, `sentinels report ${reports.join(', ')}`);
    const newMaster = trio.client(output.current);
    assert.equal(((await newMaster.call('ROLE')) as unknown[])[0], 'master');
    assert.equal(await newMaster.set('after-failover', 'written'), 'OK');

    // Back, the old primary is turned into a replica of the new master by Sentinel.
    await trio.resume(primary);
    const [newHost, newPort] = output.current.split(':');
    const oldPrimary = trio.client(primary);
    await waitFor(
      `old primary ${primary} to replicate from ${output.current} (${trio.output().slice(-2000)})`,
      async () => {
        const oldRole = (await oldPrimary.call('ROLE')) as unknown[];
        return oldRole[0] === 'slave' && oldRole[1] === newHost && Number(oldRole[2]) === Number(newPort) && oldRole[3] === 'connected';
      },
      40_000,
      200,
    );
    await waitFor('the write to reach the old primary', async () => (await oldPrimary.get('after-failover')) === 'written', 10_000);
  });

  test('a step run again, in another process, after its failover was not confirmed in time confirms that failover instead of starting another', async (t) => {
    const master = await trio.settled(2);
    const epoch = await configEpoch();
    await trio.crash(master);
    await sentinelsLostMaster();
    // Three more sentinels that are down at first: 3 answering of 6 listed is no majority, so the first run cannot confirm.
    const ports = [await freePort(), await freePort(), await freePort()];
    const listed = [...trio.sentinels, ...ports.map((port) => `127.0.0.1:${port}`)];
    // Two instances sharing only remediator's Redis: the retry lands in another process.
    const state = await startRedis();
    t.after(() => state.stop());
    const firstProcess = createRedisSentinelFailoverAction({ memory: createRunMemory(state.client()) });
    const secondProcess = createRedisSentinelFailoverAction({ memory: createRunMemory(state.client()) });
    const runId = 'retried-run';
    await assert.rejects(
      run(firstProcess, { sentinels: listed, masterName: trio.masterName, timeout: '3s' }, undefined, runId),
      appError(errorCodes.STEP_FAILED, new RegExp(`failover of "${trio.masterName}" away from ${master} not confirmed within 3000 ms`)),
    );
    const moved = await waitFor(
      'the sentinels to report the new master',
      async () => {
        const reports = await reportedMasters();
        return reports.every((report) => report !== master && report === reports[0]) ? reports[0] : undefined;
      },
      10_000,
    );

    // The missing three come back (forwarding to the real ones), and the step runs again for the same run.
    const proxies = await Promise.all(ports.map((port, index) => forward(port, trio.sentinels[index] ?? '')));
    t.after(async () => {
      for (const proxy of proxies) await proxy.close();
    });
    const output = await run(secondProcess, { sentinels: listed, masterName: trio.masterName, timeout: '30s' }, undefined, runId);
    assert.deepEqual(output, { masterName: trio.masterName, previous: master, current: moved });
    assert.equal(await configEpoch(), epoch + 1, 'the retry started no second failover');
  });
});

describe('redis.sentinel-failover action without sentinels', () => {
  const action = createRedisSentinelFailoverAction();

  test('only unreachable sentinels is a transient error naming each of them', async () => {
    const dead = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    await assert.rejects(
      run(action, { sentinels: dead, masterName: 'mymaster', timeout: '5s' }),
      appError(
        errorCodes.STEP_FAILED,
        /no sentinel reachable for "mymaster"/,
        new RegExp(dead[0] ?? ''),
        new RegExp(dead[1] ?? ''),
        /ECONNREFUSED/,
      ),
    );
  });
});
