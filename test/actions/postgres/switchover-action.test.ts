import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { createPostgresSwitchoverAction } from '../../../src/actions/postgres/switchover-action.js';
import { RunSkip } from '../../../src/core/action.js';
import { errorCodes } from '../../../src/core/errors/index.js';
import type { PrimaryRecord } from '../../../src/state/primary-record.js';
import { appError, runAction } from '../../helpers/action-run.js';
import { caughtUp, createPostgresSandbox, type PostgresSandbox, type PostgresServer } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';
import { crash, inRecovery, rows, startNotesCluster, streamingFrom } from './notes-cluster.js';
import { inventoryOfServers, passwordEnv } from './promote-inventory.js';
import { startSteadyWriter } from './steady-writer.js';

/** The output of a postgres.switchover run, as the tests read it (docs/actions.md#postgresswitchover). */
interface SwitchoverOutput {
  from: string;
  to: string;
  mode: 'planned' | 'unplanned';
  changed: boolean;
  writePauseMs: number;
  lagBytesBefore?: number;
  lostBytes?: number | null;
  reason?: string;
  steps?: Record<string, number>;
  timeline: number;
  fenced: string[];
  repointed: string[];
}

/** A PrimaryRecord in this process. */
function memoryRecord(): PrimaryRecord & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    get: (cluster) => Promise.resolve(values.get(cluster)),
    set: (cluster, member) => {
      values.set(cluster, member);
      return Promise.resolve();
    },
  };
}

/** The run-skip a refused switchover throws, its reason matching `pattern`. */
const refused = (pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof RunSkip, `expected a RunSkip, got ${String(error)}`);
  assert.equal(error.kind, 'switchover-refused');
  assert.match(error.message, pattern);
  return true;
};

/** The numbers in `seq` on `server`. */
const sequence = async (server: PostgresServer) => new Set((await server.query<{ n: number }>('SELECT n FROM seq')).map((row) => row.n));

const writeRefused = (server: PostgresServer) =>
  assert.rejects(server.query("INSERT INTO notes (note) VALUES ('refused')"), /read-only transaction/);

describe('postgres.switchover against real PostgreSQL servers', () => {
  let sandbox: PostgresSandbox;
  let record: ReturnType<typeof memoryRecord>;

  beforeEach(async () => {
    sandbox = await createPostgresSandbox();
    process.env[passwordEnv] = sandbox.password;
    record = memoryRecord();
  });
  afterEach(async () => {
    Reflect.deleteProperty(process.env, passwordEnv);
    await sandbox.cleanup();
  });

  /** pg-a primary, `names` its standbys; wal_log_hints so that a fenced old primary can be rewound. */
  const cluster = async (names: string[]) => {
    const { primary, standbys } = await startNotesCluster(sandbox, names, ['wal_log_hints = on', "wal_retrieve_retry_interval = '100ms'"]);
    const servers = [primary, ...standbys];
    const action = createPostgresSwitchoverAction({ inventory: inventoryOfServers(servers), record });
    return { servers, action };
  };

  test('a switchover under a steady write load keeps every committed row, makes the standby the primary that the other standby and the rewound old primary follow, and reports the write pause', async (t) => {
    const { servers, action } = await cluster(['pg-b', 'pg-c']);
    const [a, b, c] = servers as [PostgresServer, PostgresServer, PostgresServer];
    await a.query('CREATE TABLE seq (n int PRIMARY KEY)');
    const writer = startSteadyWriter([a, b, c], { maxAttempts: 20_000, maxMs: 60_000 });
    await waitFor('100 rows written on pg-a', () => writer.committedCount() >= 100, 20_000);
    const runId = 'switchover-under-load';

    const output = await runAction<SwitchoverOutput>(action, { cluster: 'db', to: 'pg-b' }, undefined, runId);

    const before = writer.committedCount();
    await waitFor('100 more rows written on pg-b', () => writer.committedCount() >= before + 100, 20_000);
    const written = await writer.stop();
    t.diagnostic(
      `write pause ${output.writePauseMs} ms (steps ${JSON.stringify(output.steps)}); the writer's longest gap between commits ${written.longestGapMs} ms; ${written.committed.length} commits, ${written.failures} refused`,
    );
    assert.equal(output.from, 'pg-a');
    assert.equal(output.to, 'pg-b');
    assert.equal(output.mode, 'planned');
    assert.equal(output.changed, true);
    assert.equal(typeof output.writePauseMs, 'number');
    assert.ok(output.writePauseMs > 0);
    assert.equal(output.lostBytes, undefined, 'a planned switchover loses nothing, so reports no loss');
    assert.deepEqual(output.fenced, ['pg-a']);
    assert.deepEqual(output.repointed, ['pg-c']);
    assert.equal(record.values.get('db'), 'pg-b', 'the PrimaryRecord names the new primary');

    assert.equal(await inRecovery(b), false);
    const onB = await sequence(b);
    const missing = written.committed.filter((n) => !onB.has(n));
    assert.deepEqual(missing, [], 'every acknowledged insert is on pg-b');
    assert.ok(written.committed.length >= 200);
    await writeRefused(a);
    assert.equal(await streamingFrom(c), b.port, 'pg-c streams from pg-b');
    await caughtUp(b, c);
    assert.equal((await sequence(c)).size, onB.size);

    // PostgreSQL cannot demote a running primary: the operator rewinds the fenced one and starts it as a standby.
    await a.stop();
    await a.rewind(b);
    await a.start();
    await waitFor('pg-a to stream from pg-b', async () => (await streamingFrom(a)) === b.port);
    await caughtUp(b, a);
    assert.equal((await sequence(a)).size, onB.size, 'pg-a has every row pg-b has');

    // A rerun of the same run (a retry after a crash) converges on pg-b, never switches back, whatever `to` says.
    const again = await runAction<SwitchoverOutput>(action, { cluster: 'db', to: '' }, undefined, runId);
    assert.equal(again.to, 'pg-b');
    assert.equal(again.changed, false);
    assert.equal(again.writePauseMs, 0);
    assert.match(again.reason ?? '', /pg-b is the primary already/);
    assert.equal(await inRecovery(b), false);
  });

  test('a switchover to a lagging standby is refused with the reason, changes nothing, and the primary still takes writes', async () => {
    const { servers, action } = await cluster(['pg-b']);
    const [a, b] = servers as [PostgresServer, PostgresServer];
    // pg-b keeps receiving WAL but replays none of it.
    await b.query('SELECT pg_wal_replay_pause()');
    await a.query("INSERT INTO notes (note) SELECT 'bulk ' || n FROM generate_series(1, 500) AS n");

    await assert.rejects(
      runAction(action, { cluster: 'db', to: 'pg-b', maxLagBytes: 4096 }),
      refused(/^no switchover in postgres cluster "db": pg-b is [\d.]+ KiB of WAL behind pg-a \(maxLagBytes 4\.0 KiB\)$/),
    );
    await assert.rejects(
      runAction(action, { cluster: 'db' }),
      refused(/^no switchover in postgres cluster "db": no standby streams from pg-a with its replay running$/),
    );

    await a.query("INSERT INTO notes (note) VALUES ('after the refusals')");
    assert.equal((await rows(a)).length, 502);
    assert.equal(await inRecovery(b), true);
    assert.equal((await b.query<{ paused: boolean }>('SELECT pg_is_wal_replay_paused() AS paused'))[0]?.paused, true);
    assert.equal(record.values.get('db'), undefined, 'nothing recorded');
  });

  test('a switchover to the member that is the primary already is a success that changes nothing and says so; with no primary answering it is refused', async () => {
    const { servers, action } = await cluster(['pg-b']);
    const [a, b] = servers as [PostgresServer, PostgresServer];

    const output = await runAction<SwitchoverOutput>(action, { cluster: 'db', to: 'pg-a' });

    assert.deepEqual(
      { from: output.from, to: output.to, changed: output.changed, writePauseMs: output.writePauseMs, reason: output.reason },
      { from: 'pg-a', to: 'pg-a', changed: false, writePauseMs: 0, reason: 'pg-a is the primary already' },
    );
    await a.query("INSERT INTO notes (note) VALUES ('still the primary')");
    assert.equal(await streamingFrom(b), a.port);

    await crash(a, [b]);
    await assert.rejects(
      runAction(action, { cluster: 'db', to: 'pg-b' }),
      refused(/no primary answers: that is a failover \(postgres\.promote\), not a switchover/),
    );
    assert.equal(await inRecovery(b), true, 'pg-b was not promoted');
  });

  test('a planned switchover whose standby does not replay in time gives up with the reason and makes the old primary writable again; unplanned mode promotes it without waiting for replay', async (t) => {
    const { servers, action } = await cluster(['pg-b']);
    const [a, b] = servers as [PostgresServer, PostgresServer];
    // pg-b receives everything at once but applies each commit an hour late.
    await b.query("ALTER SYSTEM SET recovery_min_apply_delay = '1h'");
    await b.query('SELECT pg_reload_conf()');
    await a.query("INSERT INTO notes (note) VALUES ('delayed')");
    const [{ lsn } = { lsn: '' }] = await a.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    await waitFor(
      'pg-b to receive the row',
      async () => (await b.query<{ ok: boolean }>('SELECT pg_last_wal_receive_lsn() >= $1::pg_lsn AS ok', [lsn]))[0]?.ok,
    );

    await assert.rejects(
      runAction(action, { cluster: 'db', to: 'pg-b', catchUpTimeout: '1s' }),
      appError(
        errorCodes.STEP_FAILED,
        /^pg-b did not replay up to pg-a's last WAL \(.+\) within 1000 ms .*: not switched, writes resumed on pg-a$/,
      ),
    );
    await a.query("INSERT INTO notes (note) VALUES ('after the planned switchover gave up')");
    assert.equal(await inRecovery(b), true);
    assert.equal(record.values.get('db'), undefined);

    const output = await runAction<SwitchoverOutput>(action, { cluster: 'db', to: 'pg-b', mode: 'unplanned', catchUpTimeout: '1s' });

    t.diagnostic(
      `unplanned: write pause ${output.writePauseMs} ms, ${String(output.lostBytes)} bytes lost, steps ${JSON.stringify(output.steps)}`,
    );
    assert.equal(output.mode, 'unplanned');
    assert.equal(output.to, 'pg-b');
    assert.equal(output.steps?.catchUpMs, undefined, 'no wait for the replay');
    assert.equal(typeof output.lostBytes, 'number');
    assert.ok((output.lostBytes ?? -1) >= 0);
    assert.equal(await inRecovery(b), false);
    await b.query("INSERT INTO notes (note) VALUES ('on pg-b')");
    // Promotion ends the apply delay: what pg-b had received is replayed, not lost.
    assert.ok((await rows(b)).includes('delayed'));
    await writeRefused(a);
    assert.equal(record.values.get('db'), 'pg-b');
  });
});
