import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPostgresCollector } from '../../src/exporters/postgres-collector.js';
import { caughtUp, createPostgresSandbox, type PostgresSandbox, type PostgresServer } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';
import { inProcessExporter, series, valueOf, type ParsedSample } from './metrics-text.js';

describe('the exporter on a real PostgreSQL primary and standby', () => {
  let sandbox: PostgresSandbox;
  let primary: PostgresServer;
  let standby: PostgresServer;
  let scrape: () => Promise<ParsedSample[]>;

  before(async () => {
    sandbox = await createPostgresSandbox();
    primary = await sandbox.startPrimary('pg-a');
    standby = await sandbox.startStandby('pg-b', primary);
    scrape = inProcessExporter(
      `clusters:
  db:
    kind: postgres
    credentials: { username: ${sandbox.user}, passwordEnv: DB_PASSWORD }
    members:
      - { name: pg-a, address: ${primary.address} }
      - { name: pg-b, address: ${standby.address} }
`,
      {
        collectors: { postgres: createPostgresCollector() },
        probeTimeoutMs: 2000,
        // The inventory's credentials are what the exporter logs in with (the sandbox requires a password).
        secret: ({ passwordEnv }) => (passwordEnv === 'DB_PASSWORD' ? sandbox.password : assert.fail('unexpected secret')),
      },
    );
  });
  after(async () => {
    await sandbox.cleanup();
  });

  test('a streaming standby is a replica with its link up and no lag, the primary is the primary', async () => {
    await primary.query('CREATE TABLE t (id int)');
    await caughtUp(primary, standby);
    const samples = await scrape();
    assert.equal(valueOf(samples, 'remediator_member_up', { cluster: 'db', instance: 'pg-a', role: 'primary', service: 'postgres' }), 1);
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'pg-b', role: 'replica', service: 'postgres' }), 1);
    assert.equal(valueOf(samples, 'remediator_replication_link_up', { instance: 'pg-b' }), 1);
    assert.deepEqual(series(samples, 'remediator_replication_link_up', { instance: 'pg-a' }), []);
    // The primary writes WAL of its own now and then (running-transaction snapshots): wait for a quiet moment.
    await waitFor('pg-b at lag 0', async () => {
      const now = await scrape();
      return (
        valueOf(now, 'remediator_replication_lag_bytes', { instance: 'pg-b' }) === 0 &&
        valueOf(now, 'remediator_replication_lag_seconds', { instance: 'pg-b' }) === 0
      );
    });
  });

  test('a standby that stops replaying reports the WAL bytes and seconds it is behind while its link stays up', async () => {
    await standby.query('SELECT pg_wal_replay_pause()');
    await primary.query('INSERT INTO t SELECT generate_series(1, 10000)');
    const samples = await waitFor('pg-b to lag in seconds too', async () => {
      const now = await scrape();
      return valueOf(now, 'remediator_replication_lag_seconds', { instance: 'pg-b' }) > 0 ? now : undefined;
    });
    // 10,000 rows are well over 100 kB of WAL.
    assert.ok(valueOf(samples, 'remediator_replication_lag_bytes', { instance: 'pg-b' }) > 100_000);
    assert.equal(valueOf(samples, 'remediator_replication_link_up', { instance: 'pg-b' }), 1);
    await standby.query('SELECT pg_wal_replay_resume()');
    await caughtUp(primary, standby);
    await waitFor(
      'pg-b back at lag 0',
      async () => valueOf(await scrape(), 'remediator_replication_lag_bytes', { instance: 'pg-b' }) === 0,
    );
  });

  test('a primary fenced read-only (as postgres.promote fences a stale one) is role fenced, counted as no primary, and measures no lag', async () => {
    await primary.query('ALTER SYSTEM SET default_transaction_read_only = on');
    await primary.query('SELECT pg_reload_conf()');
    const samples = await waitFor('pg-a to read as fenced', async () => {
      const now = await scrape();
      return valueOf(now, 'remediator_member_up', { instance: 'pg-a', role: 'fenced' }) === 1 ? now : undefined;
    });
    assert.deepEqual(series(samples, 'remediator_member_up', { instance: 'pg-a', role: 'primary' }), []);
    assert.equal(valueOf(samples, 'remediator_cluster_primaries', { cluster: 'db' }), 0);
    assert.deepEqual(series(samples, 'remediator_replication_lag_bytes', { instance: 'pg-a' }), []);
    // Lifted: a session that turns the default off for itself may change the system setting back.
    const client = await primary.connect();
    try {
      await client.query('SET default_transaction_read_only = off');
      await client.query('ALTER SYSTEM RESET default_transaction_read_only');
      await client.query('SELECT pg_reload_conf()');
    } finally {
      await client.end();
    }
    await waitFor(
      'pg-a to read as the primary again',
      async () => valueOf(await scrape(), 'remediator_member_up', { instance: 'pg-a', role: 'primary' }) === 1,
    );
  });

  test('a stopped primary is reported down with its last known role and its standby loses its link', async () => {
    await primary.stop('immediate');
    const samples = await scrape();
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'pg-a', role: 'primary', service: 'postgres' }), 0);
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'pg-b', role: 'replica' }), 1);
    await waitFor(
      'pg-b to lose its link',
      async () => valueOf(await scrape(), 'remediator_replication_link_up', { instance: 'pg-b' }) === 0,
      15_000,
    );
    // With no primary to compare with, the standby is compared with the WAL it received itself.
    await waitFor(
      'pg-b to have replayed all it received',
      async () => valueOf(await scrape(), 'remediator_replication_lag_bytes', { instance: 'pg-b' }) === 0,
    );
  });
});
