import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPostgresPromoteAction } from '../../../src/actions/postgres/promote-action.js';
import { RunSkip, type ActionDefinition } from '../../../src/core/action.js';
import { createNetLab, type NetLab } from '../../../tools/harness/netns.js';
import { runAction } from '../../helpers/action-run.js';
import { createPostgresSandbox, type PostgresSandbox, type PostgresServer } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';
import { inRecovery } from './notes-cluster.js';
import { inventoryOfServers, passwordEnv } from './promote-inventory.js';
import { expectNoStaleWritesThroughFence, protectAndSeed } from './stale-writes.js';

interface PromoteOutput {
  primary: string;
  promoted: boolean;
  fenced: string[];
  confirmation: { confirmed: boolean; lost: string[] } | null;
}

/*
 * The PostgreSQL partitions: pg-a (primary), pg-b and pg-c (streaming standbys) each in its own network
 * namespace, bound to its lab address; remediator is this process, in the root namespace. wal_receiver_timeout is
 * 2 s; pg-a commits only with a standby (synchronous_standby_names), as docs/actions.md asks of a primary.
 */
describe('postgres.promote across network partitions (namespaces): a primary + 2 streaming standbys', () => {
  // Undefined when before() failed early: after() cleans up what exists.
  let lab: NetLab | undefined;
  let sandbox: PostgresSandbox | undefined;
  let a: PostgresServer;
  let b: PostgresServer;
  let c: PostgresServer;
  let action: ActionDefinition;
  // A lab address that does not answer costs a whole connect timeout: short ones keep the runs quick.
  const promote = () => runAction<PromoteOutput>(action, { cluster: 'db', connectTimeout: '1s' });
  const streaming = async (standby: PostgresServer) =>
    (await standby.query<{ status: string }>('SELECT status FROM pg_stat_wal_receiver'))[0]?.status === 'streaming';

  before(async () => {
    const net = await createNetLab({ nodes: ['pg-a', 'pg-b', 'pg-c'], host: 'remediator' });
    lab = net;
    const pg = await createPostgresSandbox({ network: net.subnet });
    sandbox = pg;
    process.env[passwordEnv] = pg.password;
    const placement = (node: string) => ({
      host: net.address(node),
      wrap: (command: string, args: readonly string[]) => net.command(node, command, args),
    });
    a = await pg.startPrimary('pg-a', ["wal_receiver_timeout = '2s'"], placement('pg-a'));
    await a.query('CREATE TABLE notes (id serial PRIMARY KEY, note text NOT NULL)');
    [b, c] = await Promise.all([pg.startStandby('pg-b', a, placement('pg-b')), pg.startStandby('pg-c', a, placement('pg-c'))]);
    await protectAndSeed(a, [b, c]);
    action = createPostgresPromoteAction({ inventory: inventoryOfServers([a, b, c]) });
  });
  after(async () => {
    Reflect.deleteProperty(process.env, passwordEnv);
    await sandbox?.cleanup();
    await lab?.stop();
  });

  const netLab = () => {
    assert.ok(lab);
    return lab;
  };

  test('partition-remediator: remediator loses the primary, its standbys keep it: no promotion, the run skipped primary-reachable-from-replicas naming both', async () => {
    await netLab().cut('remediator', 'pg-a');
    let skip: unknown;
    try {
      skip = await promote().then(
        (output) => assert.fail(`expected the run to be skipped, got ${JSON.stringify(output)}`),
        (error: unknown) => error,
      );
    } finally {
      await netLab().heal('remediator', 'pg-a');
    }
    assert.ok(skip instanceof RunSkip, String(skip));
    assert.equal(skip.kind, 'primary-reachable-from-replicas');
    assert.match(skip.message, /pg-b, pg-c still see it/);
    assert.deepEqual([await inRecovery(a), await inRecovery(b), await inRecovery(c)], [false, true, true], 'promotions: 0');
  });

  test('isolate-primary: the primary loses everyone: exactly one standby is promoted, and back, the old primary acknowledges no write before the fence', async () => {
    await netLab().isolate('pg-a');
    await Promise.all([b, c].map((standby) => waitFor(`${standby.name} to lose pg-a`, async () => !(await streaming(standby)))));

    const output = await promote();

    assert.equal(output.promoted, true);
    assert.equal(output.confirmation?.confirmed, true);
    assert.deepEqual(output.confirmation.lost, ['pg-b', 'pg-c']);
    assert.deepEqual([await inRecovery(b), await inRecovery(c)], [false, true], 'promotions: exactly 1');

    await netLab().rejoin('pg-a');
    assert.equal(await inRecovery(a), false, 'the isolated primary still believes it is the primary');
    await expectNoStaleWritesThroughFence(a, promote);
  });
});
