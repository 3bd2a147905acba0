import assert from 'node:assert/strict';
import type { Inventory } from '../../../src/inventory/inventory.js';
import { parseInventorySource } from '../../../src/inventory/load-inventory.js';
import type { PostgresServer } from '../../helpers/postgres.js';

/** The environment variable the inventory names for the PostgreSQL password; each test sets it as it needs. */
export const passwordEnv = `REMEDIATOR_TEST_PG_PASSWORD_${process.pid}`;

/** A member of cluster `db`: a name, where it listens, its failover priority. */
export interface MemberSpec {
  name: string;
  /** A running (or stopped) test server, or a bare address. */
  at: PostgresServer | string;
  priority?: number;
}

/** An inventory with cluster `db` (postgres, password from passwordEnv) and `cache` (redis), read as the service reads it. */
export function inventoryOf(members: MemberSpec[]): Inventory {
  const lines = members.map(
    ({ name, at, priority }) =>
      `      - { name: ${name}, address: "${typeof at === 'string' ? at : at.address}", priority: ${priority ?? 0} }`,
  );
  const yaml = [
    'clusters:',
    '  db:',
    '    kind: postgres',
    '    database: postgres',
    '    credentials:',
    '      username: postgres',
    `      passwordEnv: ${passwordEnv}`,
    '    members:',
    ...lines,
    '  cache:',
    '    kind: redis',
    '    members:',
    '      - { name: cache-a, address: "127.0.0.1:6379" }',
    '',
  ].join('\n');
  const result = parseInventorySource('inventory.yaml', yaml, (reference) => {
    const value = reference.passwordEnv === undefined ? undefined : process.env[reference.passwordEnv];
    if (value === undefined) throw new Error(`${reference.passwordEnv ?? 'passwordEnv'} is not set`);
    return value;
  });
  if (!result.success) assert.fail(JSON.stringify(result.problems));
  return result.inventory;
}

/** An inventory (as inventoryOf) whose members are `servers`, each under its own name. */
export const inventoryOfServers = (servers: readonly PostgresServer[]): Inventory =>
  inventoryOf(servers.map((server) => ({ name: server.name, at: server })));

/** An inventory (as inventoryOf) with pg-a at 127.0.0.1:5432, for tests that never connect (its password is unused). */
export function offlineInventory(): Inventory {
  process.env[passwordEnv] = 'unused';
  try {
    return inventoryOf([{ name: 'pg-a', at: '127.0.0.1:5432' }]);
  } finally {
    Reflect.deleteProperty(process.env, passwordEnv);
  }
}
