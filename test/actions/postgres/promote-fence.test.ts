import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ActionDefinition } from '../../../src/core/action.js';
import { createPostgresPromoteAction } from '../../../src/actions/postgres/promote-action.js';
import { runAction } from '../../helpers/action-run.js';
import { caughtUp, createPostgresSandbox, type PostgresSandbox, type PostgresServer } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';
import { crash, inRecovery, rows, startNotesCluster, streamingFrom, timelineOf } from './notes-cluster.js';
import { inventoryOfServers, passwordEnv } from './promote-inventory.js';
import { noChange, type PromoteOutput } from './promote-output.js';

/*
 * postgres.promote with `promote: false`, the fence-only step the reconcile loop runs against a second writable
 * member. One cluster for the whole file, each test starting from where the last one left it: pg-a (primary), pg-b
 * and pg-c streaming from it. wal_retrieve_retry_interval is short so that the standbys find pg-a again quickly once
 * it is back.
 */
describe('postgres.promote with promote: false fences without ever promoting, on real servers', () => {
  let sandbox: PostgresSandbox;
  let a: PostgresServer;
  let b: PostgresServer;
  let c: PostgresServer;
  let action: ActionDefinition;

  const fence = () => runAction<PromoteOutput>(action, { cluster: 'db', promote: false });

  before(async () => {
    sandbox = await createPostgresSandbox();
    process.env[passwordEnv] = sandbox.password;
    const { primary, standbys } = await startNotesCluster(sandbox, ['pg-b', 'pg-c'], ["wal_retrieve_retry_interval = '100ms'"]);
    [a, b, c] = [primary, ...standbys] as [PostgresServer, PostgresServer, PostgresServer];
    action = createPostgresPromoteAction({ inventory: inventoryOfServers([a, b, c]) });
  });
  after(async () => {
    Reflect.deleteProperty(process.env, passwordEnv);
    await sandbox.cleanup();
  });

  test('with the primary down and both standbys up it promotes nothing and confirms nothing: changed false, and the output says why', async () => {
    await crash(a, [b, c]);

    const { reason, ...output } = await fence();

    assert.deepEqual(output, { ...noChange, primary: null, previous: 'pg-a', timeline: null, unreachable: ['pg-a'] });
    assert.match(
      reason ?? '',
      /^no member of postgres cluster "db" answers as a primary \(pg-a \(.+\), pg-b \(standby\), pg-c \(standby\)\); promote: false never promotes$/,
    );
    assert.deepEqual([await inRecovery(b), await inRecovery(c)], [true, true], 'every standby is still in recovery');

    // Untouched, the standbys follow pg-a again once it is back.
    await a.start();
    await Promise.all(
      [b, c].map((standby) => waitFor(`${standby.name} to stream from pg-a again`, async () => (await streamingFrom(standby)) === a.port)),
    );
  });

  test('with a standby promoted by hand (two writable primaries, the old one on the older timeline) it fences the old one, keeps the newer one and repoints the other standby to it', async () => {
    // pg-c stops receiving before the split, so it holds nothing pg-b lacks and can follow pg-b.
    await c.query("ALTER SYSTEM SET primary_conninfo = ''");
    await c.query('SELECT pg_reload_conf()');
    await waitFor('pg-c to stop streaming', async () => (await streamingFrom(c)) === undefined);
    await caughtUp(a, b);
    await b.query('SELECT pg_promote()');
    await a.query("INSERT INTO notes (note) VALUES ('written to pg-a after the split')");
    await b.query("INSERT INTO notes (note) VALUES ('written to pg-b after the split')");
    assert.deepEqual([await inRecovery(a), await inRecovery(b)], [false, false], 'both accept writes');
    assert.deepEqual([await timelineOf(a), await timelineOf(b)], [1, 2]);

    const output = await fence();

    assert.deepEqual(output, {
      ...noChange,
      primary: 'pg-b',
      previous: 'pg-b',
      changed: true,
      fenced: ['pg-a'],
      repointed: ['pg-c'],
      timeline: 2,
      unreachable: [],
    });
    await assert.rejects(a.query("INSERT INTO notes (note) VALUES ('refused')"), /read-only transaction/);
    assert.equal(await inRecovery(c), true);
    assert.equal(await streamingFrom(c), b.port, 'pg-c streams from pg-b');
    await b.query("INSERT INTO notes (note) VALUES ('after the fence')");
    await waitFor('the row written on pg-b to reach pg-c', async () => (await rows(c)).includes('after the fence'));
    assert.deepEqual(await rows(c), ['before', 'written to pg-b after the split', 'after the fence']);

    const again = await fence();
    assert.equal(again.changed, false);
    assert.deepEqual(again.fenced, []);
  });
});
