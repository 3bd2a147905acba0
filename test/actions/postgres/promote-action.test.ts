import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { ActionDefinition } from '../../../src/core/action.js';
import { createPostgresPromoteAction } from '../../../src/actions/postgres/promote-action.js';
import { errorCodes } from '../../../src/core/errors/index.js';
import { freePort } from '../../../src/util/free-port.js';
import { appError, runAction } from '../../helpers/action-run.js';
import { caughtUp, createPostgresSandbox, type PostgresSandbox } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';
import { crash, inRecovery, rows, startNotesCluster, streamingFrom, timelineOf } from './notes-cluster.js';
import { inventoryOf, passwordEnv } from './promote-inventory.js';
import { noChange, type PromoteOutput } from './promote-output.js';

/** Confirmation is tested in promote-confirm.test.ts; here a short one keeps the crashes' tests quick. */
const promote = (action: ActionDefinition, withBlock: Record<string, unknown> = {}) =>
  runAction<PromoteOutput>(action, { cluster: 'db', confirm: { probes: 2, window: '200ms' }, ...withBlock });

describe('postgres.promote against real PostgreSQL servers', () => {
  let sandbox: PostgresSandbox;

  beforeEach(async () => {
    sandbox = await createPostgresSandbox();
    process.env[passwordEnv] = sandbox.password;
  });
  afterEach(async () => {
    Reflect.deleteProperty(process.env, passwordEnv);
    await sandbox.cleanup();
  });

  const cluster = (standbyNames: string[]) => startNotesCluster(sandbox, standbyNames);

  test('when the primary crashes its streaming standby is promoted, keeps the data, accepts writes and moves to a new timeline', async () => {
    const {
      primary,
      standbys: [standby],
    } = await cluster(['pg-b']);
    assert.ok(standby);
    const timelineBefore = await timelineOf(primary);
    const action = createPostgresPromoteAction({
      inventory: inventoryOf([
        { name: 'pg-a', at: primary },
        { name: 'pg-b', at: standby },
      ]),
    });
    await crash(primary, [standby]);

    const output = await promote(action);

    assert.equal(output.primary, 'pg-b');
    assert.equal(output.previous, 'pg-a', 'the standby was following pg-a');
    assert.equal(output.changed, true);
    assert.equal(output.promoted, true);
    assert.deepEqual(output.fenced, []);
    assert.deepEqual(output.repointed, []);
    assert.deepEqual(output.unreachable, ['pg-a']);
    assert.equal(await inRecovery(standby), false);
    await standby.query("INSERT INTO notes (note) VALUES ('after')");
    assert.deepEqual(await rows(standby), ['before', 'after']);
    const timelineAfter = await timelineOf(standby);
    assert.ok(timelineAfter > timelineBefore, `timeline ${timelineAfter} should be above ${timelineBefore}`);
    assert.equal(output.timeline, timelineAfter);
  });

  test('with two standbys the one that replayed the most WAL is promoted over a higher-priority lagging one, which then follows the new primary', async () => {
    const {
      primary,
      standbys: [lagging, fresh],
    } = await cluster(['pg-b', 'pg-c']);
    assert.ok(lagging && fresh);
    // pg-b keeps receiving WAL but stops replaying it; its priority alone would make it the choice.
    await lagging.query('SELECT pg_wal_replay_pause()');
    await primary.query("INSERT INTO notes (note) SELECT 'bulk ' || n FROM generate_series(1, 500) AS n");
    await caughtUp(primary, fresh);
    const [{ lsn } = { lsn: '' }] = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    await waitFor(
      'pg-b to receive all WAL',
      async () => (await lagging.query<{ ok: boolean }>('SELECT pg_last_wal_receive_lsn() >= $1::pg_lsn AS ok', [lsn]))[0]?.ok,
    );
    const [behind] = await lagging.query<{ behind: boolean }>('SELECT pg_last_wal_replay_lsn() < $1::pg_lsn AS behind', [lsn]);
    assert.equal(behind?.behind, true, 'pg-b has not replayed the bulk insert');
    const action = createPostgresPromoteAction({
      inventory: inventoryOf([
        { name: 'pg-a', at: primary },
        { name: 'pg-b', at: lagging, priority: 10 },
        { name: 'pg-c', at: fresh },
      ]),
    });
    await crash(primary, [lagging, fresh]);

    const output = await promote(action);

    assert.equal(output.primary, 'pg-c');
    assert.equal(output.previous, 'pg-a');
    assert.equal(output.promoted, true);
    assert.deepEqual(output.repointed, ['pg-b']);
    assert.deepEqual(output.resumed, ['pg-b'], 'a paused standby cannot switch timelines, so its replay is resumed');
    assert.equal(await inRecovery(fresh), false);
    assert.equal(await inRecovery(lagging), true);
    assert.equal(await streamingFrom(lagging), fresh.port, 'pg-b streams from pg-c');
    await fresh.query("INSERT INTO notes (note) VALUES ('written on pg-c')");
    await waitFor('the row written on pg-c to reach pg-b', async () => (await rows(lagging)).includes('written on pg-c'));
    assert.equal((await rows(lagging)).length, 502, 'pg-b lost nothing: before + 500 bulk rows + the new one');
  });

  test('on a healthy cluster, and when run again after a failover, the action changes nothing', async () => {
    const {
      primary,
      standbys: [b, c],
    } = await cluster(['pg-b', 'pg-c']);
    assert.ok(b && c);
    const action = createPostgresPromoteAction({
      inventory: inventoryOf([
        { name: 'pg-a', at: primary },
        { name: 'pg-b', at: b, priority: 5 },
        { name: 'pg-c', at: c },
      ]),
    });

    const healthy = await promote(action);
    assert.deepEqual(healthy, { ...noChange, primary: 'pg-a', previous: 'pg-a', timeline: 1, unreachable: [] });

    await crash(primary, [b, c]);
    // Both replayed everything before the crash; should one have caught a last record the other missed, it wins.
    const [order] = await b.query<{ cmp: number }>('SELECT sign(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), $1::pg_lsn))::int AS cmp', [
      (await c.query<{ lsn: string }>('SELECT pg_last_wal_replay_lsn()::text AS lsn'))[0]?.lsn,
    ]);
    const [winner, follower] = order?.cmp === -1 ? [c, b] : [b, c];
    const first = await promote(action);
    assert.equal(first.primary, winner.name, 'the standby that replayed most wins; equally fresh ones go by priority (pg-b: 5)');
    assert.equal(first.changed, true);
    assert.deepEqual(first.repointed, [follower.name]);
    const [conninfoBefore] = await follower.query<{ conninfo: string }>("SELECT current_setting('primary_conninfo') AS conninfo");

    const again = await promote(action);
    assert.equal(first.confirmation?.confirmed, true);
    assert.deepEqual(first.protection, {
      synchronousStandbyNames: `ANY 1 ("${follower.name}", "pg-a")`,
      set: true,
      synchronousCommit: 'on',
    });
    assert.deepEqual(again, {
      ...first,
      previous: winner.name,
      changed: false,
      promoted: false,
      repointed: [],
      resumed: [],
      confirmation: null,
      protection: null,
    });
    const [conninfoAfter] = await follower.query<{ conninfo: string }>("SELECT current_setting('primary_conninfo') AS conninfo");
    assert.equal(conninfoAfter?.conninfo, conninfoBefore?.conninfo, 'the standby was not touched');
    assert.equal(await streamingFrom(follower), winner.port);
  });

  test('an old primary that comes back after a failover is fenced by the next run: its sessions are ended and writes are refused, also after a restart', async () => {
    const {
      primary: old,
      standbys: [standby],
    } = await cluster(['pg-b']);
    assert.ok(standby);
    const action = createPostgresPromoteAction({
      inventory: inventoryOf([
        { name: 'pg-a', at: old },
        { name: 'pg-b', at: standby },
      ]),
    });
    await crash(old, [standby]);
    assert.equal((await promote(action)).primary, 'pg-b');

    // The old primary restarts still believing it is primary (timeline 1) and takes a write: split brain.
    await old.start();
    assert.equal(await inRecovery(old), false);
    const session = await old.connect();
    try {
      await session.query("INSERT INTO notes (note) VALUES ('split brain')");

      const output = await promote(action);

      assert.equal(output.primary, 'pg-b');
      assert.equal(output.changed, true);
      assert.equal(output.promoted, false);
      assert.deepEqual(output.fenced, ['pg-a']);
      await assert.rejects(session.query('SELECT 1'), 'the session open on the old primary was ended');
    } finally {
      await session.end().catch(() => undefined);
    }
    await assert.rejects(old.query("INSERT INTO notes (note) VALUES ('refused')"), /read-only transaction/);
    await old.restart();
    await assert.rejects(old.query("INSERT INTO notes (note) VALUES ('refused after restart')"), /read-only transaction/);
    await standby.query("INSERT INTO notes (note) VALUES ('new primary still writes')");

    const again = await promote(action);
    assert.equal(again.changed, false);
    assert.deepEqual(again.fenced, []);
  });

  test('a standby with more unreplayed WAL than maxLagBytes is never promoted: the permanent error names it and its lag, and it stays a standby', async () => {
    const {
      primary,
      standbys: [standby],
    } = await cluster(['pg-b']);
    assert.ok(standby);
    await standby.query('SELECT pg_wal_replay_pause()');
    await primary.query("INSERT INTO notes (note) SELECT repeat('x', 1000) FROM generate_series(1, 2000)");
    const [{ lsn } = { lsn: '' }] = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    await waitFor(
      'pg-b to receive all WAL',
      async () => (await standby.query<{ ok: boolean }>('SELECT pg_last_wal_receive_lsn() >= $1::pg_lsn AS ok', [lsn]))[0]?.ok,
    );
    const action = createPostgresPromoteAction({
      inventory: inventoryOf([
        { name: 'pg-a', at: primary },
        { name: 'pg-b', at: standby },
      ]),
    });
    await crash(primary, [standby]);

    await assert.rejects(
      promote(action, { maxLagBytes: 64 * 1024 }),
      appError(
        errorCodes.STEP_PERMANENT,
        /refusing to promote/,
        /best candidate pg-b \(highest replay position\) has [\d.]+ MiB of WAL received but not replayed/,
        /maxLagBytes 64\.0 KiB/,
        /candidates: pg-b \(replayed [0-9A-F]+\/[0-9A-F]+/,
      ),
    );
    assert.equal(await inRecovery(standby), true);
    assert.ok((await rows(standby)).length < 2001, 'the paused standby was not resumed either');
  });

  test('the most replayed standby is not promoted when another received more WAL than maxLagBytes beyond it; within the bound it is, and the other is reported as diverged and left alone', async () => {
    const {
      primary,
      standbys: [paused, cut],
    } = await cluster(['pg-b', 'pg-c']);
    assert.ok(paused && cut);
    await paused.query('SELECT pg_wal_replay_pause()');
    await primary.query("INSERT INTO notes (note) VALUES ('replayed by pg-c only')");
    await caughtUp(primary, cut);
    // pg-c stops receiving; pg-b keeps receiving (without replaying) another ~2 MB.
    await cut.query("ALTER SYSTEM SET primary_conninfo = ''");
    await cut.query('SELECT pg_reload_conf()');
    await waitFor('pg-c to stop streaming', async () => (await streamingFrom(cut)) === undefined);
    await primary.query("INSERT INTO notes (note) SELECT repeat('y', 1000) FROM generate_series(1, 2000)");
    const [{ lsn } = { lsn: '' }] = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    await waitFor(
      'pg-b to receive all WAL',
      async () => (await paused.query<{ ok: boolean }>('SELECT pg_last_wal_receive_lsn() >= $1::pg_lsn AS ok', [lsn]))[0]?.ok,
    );
    const action = createPostgresPromoteAction({
      inventory: inventoryOf([
        { name: 'pg-a', at: primary },
        { name: 'pg-b', at: paused },
        { name: 'pg-c', at: cut },
      ]),
    });
    await crash(primary, [paused]);

    await assert.rejects(
      promote(action, { maxLagBytes: 256 * 1024 }),
      appError(
        errorCodes.STEP_PERMANENT,
        /best candidate pg-c \(highest replay position\) is [\d.]+ MiB of WAL behind the most advanced standby/,
        /candidates: pg-c .*; pg-b /,
      ),
    );
    assert.equal(await inRecovery(cut), true);
    assert.equal(await inRecovery(paused), true);

    // Within the default bound (16 MiB) pg-c is promoted; pg-b holds WAL pg-c never had, so it cannot follow it.
    const output = await promote(action);
    assert.equal(output.primary, 'pg-c');
    assert.equal(output.promoted, true);
    assert.deepEqual(output.diverged, ['pg-b']);
    assert.deepEqual(output.repointed, []);
    assert.deepEqual(output.resumed, []);
    assert.equal(await inRecovery(paused), true);
    const [state] = await paused.query<{ state: string }>('SELECT pg_get_wal_replay_pause_state() AS state');
    assert.equal(state?.state, 'paused', 'the diverged standby was left as it was');
    const again = await promote(action);
    assert.equal(again.changed, false);
    assert.deepEqual(again.diverged, ['pg-b'], 'a rerun still recognises it from the timeline history');
  });

  test('a standby still streaming from a primary remediator cannot reach is not promoted, and the failure is transient', async () => {
    const {
      primary,
      standbys: [standby],
    } = await cluster(['pg-b']);
    assert.ok(standby);
    // The inventory has pg-a at an address nothing listens on; the standby still streams from the real primary.
    const action = createPostgresPromoteAction({
      inventory: inventoryOf([
        { name: 'pg-a', at: `127.0.0.1:${await freePort()}` },
        { name: 'pg-b', at: standby },
      ]),
    });

    await assert.rejects(
      promote(action, { connectTimeout: '1s' }),
      appError(errorCodes.STEP_FAILED, /not promoting/, /pg-b still streams from 127\.0\.0\.1:\d+/, /primary may be alive/),
    );
    assert.equal(await inRecovery(standby), true);
    assert.equal(await inRecovery(primary), false);
  });

  test('credentials come from passwordEnv: with a wrong password there the action changes nothing and fails permanently, with the right one it promotes', async () => {
    const {
      primary,
      standbys: [standby],
    } = await cluster(['pg-b']);
    assert.ok(standby);
    const members = [
      { name: 'pg-a', at: primary },
      { name: 'pg-b', at: standby },
    ];
    await crash(primary, [standby]);

    process.env[passwordEnv] = `${sandbox.password}-wrong`;
    const wrong = createPostgresPromoteAction({ inventory: inventoryOf(members) });
    await assert.rejects(promote(wrong), appError(errorCodes.STEP_PERMANENT, /cannot inspect/, /pg-b \(password authentication failed/));
    assert.equal(await inRecovery(standby), true);

    process.env[passwordEnv] = sandbox.password;
    const right = createPostgresPromoteAction({ inventory: inventoryOf(members) });
    assert.equal((await promote(right)).primary, 'pg-b');
    assert.equal(await inRecovery(standby), false);
  });

  test('when no member answers, the failure is transient and names every member', async () => {
    const action = createPostgresPromoteAction({
      inventory: inventoryOf([
        { name: 'pg-a', at: `127.0.0.1:${await freePort()}` },
        { name: 'pg-b', at: `127.0.0.1:${await freePort()}` },
      ]),
    });
    await assert.rejects(
      promote(action, { connectTimeout: '1s' }),
      appError(errorCodes.STEP_FAILED, /no member of postgres cluster "db" is reachable/, /pg-a \(/, /pg-b \(/),
    );
  });
});

describe('postgres.promote stopping', () => {
  // The timeout only turns a run that ignores the abort (and would wait out connectTimeout) into a failure instead of a hang.
  test(
    'an abort stops a run waiting on a member that accepts connections but never answers, and closes the connection',
    { timeout: 60_000 },
    async () => {
      // A hung server: TCP accepts and reads, the PostgreSQL startup message is never answered.
      const sockets = new Set<Socket>();
      const hung = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.resume();
      });
      await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
      try {
        process.env[passwordEnv] = 'unused';
        const action = createPostgresPromoteAction({
          inventory: inventoryOf([{ name: 'pg-a', at: `127.0.0.1:${(hung.address() as AddressInfo).port}` }]),
        });
        const controller = new AbortController();
        const reason = new Error('step aborted by the test');
        const running = runAction(action, { cluster: 'db', connectTimeout: '10m' }, controller.signal);
        await waitFor('the action to connect', () => sockets.size > 0);
        controller.abort(reason);
        await assert.rejects(running, (error) => error === reason);
        await waitFor('the connection to be closed', () => sockets.size === 0);
      } finally {
        Reflect.deleteProperty(process.env, passwordEnv);
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => {
          hung.close(() => {
            resolve();
          });
        });
      }
    },
  );
});
