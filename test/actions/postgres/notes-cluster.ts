import assert from 'node:assert/strict';
import { caughtUp, type PostgresSandbox, type PostgresServer } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';

/*
 * The cluster the postgres.promote tests start from (a primary pg-a whose notes table holds one row, standbys
 * streaming from it) and what they ask its servers, each read independently of the action's own queries.
 */

/** Starts pg-a (with `settings`, which its standbys copy) and `standbyNames` as its standbys, all caught up. */
export async function startNotesCluster(
  sandbox: PostgresSandbox,
  standbyNames: readonly string[],
  settings: readonly string[] = [],
): Promise<{ primary: PostgresServer; standbys: PostgresServer[] }> {
  const primary = await sandbox.startPrimary('pg-a', settings);
  await primary.query('CREATE TABLE notes (id serial PRIMARY KEY, note text NOT NULL)');
  await primary.query("INSERT INTO notes (note) VALUES ('before')");
  const standbys = await Promise.all(standbyNames.map((name) => sandbox.startStandby(name, primary)));
  await Promise.all(standbys.map((standby) => caughtUp(primary, standby)));
  return { primary, standbys };
}

/** The notes, in the order they were written. */
export async function rows(server: PostgresServer): Promise<string[]> {
  return (await server.query<{ note: string }>('SELECT note FROM notes ORDER BY id')).map((row) => row.note);
}

/** pg_is_in_recovery(): true on a standby. */
export async function inRecovery(server: PostgresServer): Promise<boolean | undefined> {
  return (await server.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery'))[0]?.recovery;
}

/** The port `standby` streams from, or undefined when its WAL receiver does not stream. */
export async function streamingFrom(standby: PostgresServer): Promise<number | undefined> {
  const [row] = await standby.query<{ sender_port: number | null }>(
    "SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'",
  );
  return row?.sender_port ?? undefined;
}

/** The timeline of a primary's last checkpoint (forced now). */
export async function timelineOf(server: PostgresServer): Promise<number> {
  await server.query('CHECKPOINT');
  const [row] = await server.query<{ timeline: number }>('SELECT timeline_id AS timeline FROM pg_control_checkpoint()');
  assert.ok(row);
  return row.timeline;
}

/** Crashes `primary` and waits until its standbys noticed (their WAL receivers stopped streaming). */
export async function crash(primary: PostgresServer, standbys: readonly PostgresServer[]): Promise<void> {
  await primary.stop('immediate');
  await Promise.all(
    standbys.map((standby) => waitFor(`${standby.name} to lose ${primary.name}`, async () => (await streamingFrom(standby)) === undefined)),
  );
}
