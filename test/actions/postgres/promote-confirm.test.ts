import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RunSkip, type ActionDefinition } from '../../../src/core/action.js';
import { createPostgresPromoteAction } from '../../../src/actions/postgres/promote-action.js';

import { runAction } from '../../helpers/action-run.js';
import { createPostgresSandbox, type PostgresSandbox, type PostgresServer } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';
import { inRecovery, streamingFrom } from './notes-cluster.js';
import { inventoryOf, passwordEnv } from './promote-inventory.js';
import { attemptWrites, expectNoStaleWritesThroughFence, protectAndSeed } from './stale-writes.js';
import { createTcpGate, type TcpGate } from './tcp-gate.js';

interface Confirmation {
  confirmed: boolean;
  lost: string[];
  seeing: string[];
  rounds: { afterMs: number; primary: string; witnesses: Record<string, string> }[];
}

interface PromoteOutput {
  primary: string;
  promoted: boolean;
  fenced: string[];
  repointed: string[];
  confirmation: Confirmation | null;
  protection: { set: boolean; synchronousStandbyNames: string; warning?: string } | null;
}

/*
 * One cluster for the whole file, each test starting from where the last one left it: pg-a (primary, reached by
 * remediator and its standbys through a gate that can refuse new connections), pg-b and pg-c streaming from it.
 * wal_receiver_timeout is 2 s, so a standby counts a silent primary as lost after 2 s (production: 5-10 s).
 * pg-a commits only with a standby (synchronous_standby_names), as docs/actions.md asks of a primary; its standbys
 * do not have it, so that what protects the standby remediator promotes is remediator's doing.
 */
describe('postgres.promote confirms the death of the primary with its two streaming standbys, on real servers', () => {
  let sandbox: PostgresSandbox;
  let gate: TcpGate;
  let a: PostgresServer;
  let b: PostgresServer;
  let c: PostgresServer;
  let action: ActionDefinition;

  const promote = (withBlock: Record<string, unknown> = {}) => runAction<PromoteOutput>(action, { cluster: 'db', ...withBlock });
  const skipOf = (withBlock: Record<string, unknown> = {}) =>
    promote(withBlock).then(
      (output) => assert.fail(`expected the run to be skipped, got ${JSON.stringify(output)}`),
      (error: unknown) => {
        assert.ok(error instanceof RunSkip, `expected a skip, got ${String(error)}`);
        return { kind: error.kind, reason: error.message, confirmation: (error.details as { confirmation: Confirmation }).confirmation };
      },
    );

  before(async () => {
    sandbox = await createPostgresSandbox();
    process.env[passwordEnv] = sandbox.password;
    a = await sandbox.startPrimary('pg-a', ["wal_receiver_timeout = '2s'"]);
    await a.query('CREATE TABLE notes (id serial PRIMARY KEY, note text NOT NULL)');
    gate = await createTcpGate(a);
    [b, c] = await Promise.all([
      sandbox.startStandby('pg-b', { ...gate, name: 'pg-a' }),
      sandbox.startStandby('pg-c', { ...gate, name: 'pg-a' }),
    ]);
    await protectAndSeed(a, [b, c]);
    action = createPostgresPromoteAction({
      inventory: inventoryOf([
        { name: 'pg-a', at: gate.address },
        { name: 'pg-b', at: b },
        { name: 'pg-c', at: c },
      ]),
    });
  });
  after(async () => {
    Reflect.deleteProperty(process.env, passwordEnv);
    await gate.close();
    await sandbox.cleanup();
  });

  test("a primary that misses remediator's first probe but answers the confirmation is not replaced: the run ends skipped, primary-reachable", async () => {
    gate.refuseNext(1);
    const skip = await skipOf();
    assert.equal(skip.kind, 'primary-reachable');
    assert.match(skip.reason, /pg-a answered remediator during confirmation \(answered as primary\)/);
    assert.equal(skip.confirmation.rounds.length, 1, 'the first answer ends the confirmation');
    assert.equal(await inRecovery(a), false);
    assert.deepEqual([await inRecovery(b), await inRecovery(c)], [true, true]);
  });

  test('a primary remediator cannot reach while both standbys still stream from it is not replaced: skipped, primary-reachable-from-replicas, naming both', async () => {
    gate.refuseAll(true);
    try {
      const skip = await skipOf();
      assert.equal(skip.kind, 'primary-reachable-from-replicas');
      assert.match(skip.reason, /pg-a did not answer remediator, but only 0 of 2 replicas lost it .*; pg-b, pg-c still see it/);
      assert.deepEqual(skip.confirmation.seeing, ['pg-b', 'pg-c']);
      assert.equal(skip.confirmation.rounds.length, 4, 'the default: 4 probes over 1.5 s');
      for (const round of skip.confirmation.rounds) {
        assert.match(round.primary, /^no answer/);
        assert.match(round.witnesses['pg-b'] ?? '', /^streaming, last message \d+ ms ago$/);
      }
    } finally {
      gate.refuseAll(false);
    }
    assert.equal(await inRecovery(a), false);
    assert.deepEqual([await inRecovery(b), await inRecovery(c)], [true, true]);
  });

  test("a killed primary (SIGKILL of all its processes) is confirmed dead by both standbys and exactly one of them is promoted; the confirmation and the new primary's protection are in the output", async () => {
    await a.signal('SIGKILL');
    await Promise.all(
      [b, c].map((standby) => waitFor(`${standby.name} to lose pg-a`, async () => (await streamingFrom(standby)) === undefined)),
    );

    const output = await promote();

    assert.equal(output.promoted, true);
    assert.equal(output.primary, 'pg-b', 'equally fresh standbys go by name');
    assert.deepEqual([await inRecovery(b), await inRecovery(c)], [false, true], 'exactly one standby was promoted');
    assert.equal(await streamingFrom(c), b.port);
    assert.equal(output.confirmation?.confirmed, true);
    assert.deepEqual(output.confirmation.lost, ['pg-b', 'pg-c']);
    assert.ok(output.confirmation.rounds.every((round) => round.primary.startsWith('no answer')));
    assert.deepEqual(output.protection, { synchronousStandbyNames: 'ANY 1 ("pg-c", "pg-a")', set: true, synchronousCommit: 'on' });
  });

  test('the killed primary comes back stale and acknowledges no write before the fence, its commits waiting for a standby that never comes; the fence ends them and makes it read-only', async () => {
    await a.start();
    assert.equal(await inRecovery(a), false, 'it comes back believing it is the primary');
    const { output, settled } = await expectNoStaleWritesThroughFence(a, promote);
    assert.equal(output.promoted, false);
    assert.equal(settled.failed, 3);
    await a.stop();
  });

  test("a SIGSTOP'd primary is confirmed dead once its standby has heard nothing for wal_receiver_timeout/2 + 1 s; resumed, it acknowledges no write, remediator having made it commit only with a standby", async () => {
    await b.signal('SIGSTOP');
    let output: PromoteOutput;
    try {
      output = await promote({ connectTimeout: '1s' });
    } finally {
      await b.signal('SIGCONT');
    }
    assert.equal(output.primary, 'pg-c');
    assert.equal(output.promoted, true);
    assert.equal(output.confirmation?.confirmed, true);
    assert.deepEqual(output.confirmation.lost, ['pg-c']);
    const last = output.confirmation.rounds.at(-1);
    assert.match(last?.primary ?? '', /no answer: timed out after 250 ms/, 'the hung primary accepted the connection but never answered');
    assert.match(last?.witnesses['pg-c'] ?? '', /(streaming but silent|no WAL receiver), last message \d+ ms ago/);
    assert.match(output.protection?.warning ?? '', /no standby streams from pg-c/);

    assert.equal(await inRecovery(b), false, 'resumed, pg-b still believes it is the primary');
    const writes = attemptWrites(b, 2);
    await waitFor('the writes to wait for a synchronous standby', async () => (await writes.waiting()) === 2);
    const fence = await promote();
    assert.deepEqual(fence.fenced, ['pg-b']);
    assert.equal((await writes.settled).acknowledged, 0, 'writes acknowledged by the stale primary');
  });
});
