import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPostgresSwitchoverAction } from '../../../src/actions/postgres/switchover-action.js';
import { errorCodes } from '../../../src/core/errors/index.js';
import { appError, runAction } from '../../helpers/action-run.js';
import { offlineInventory } from './promote-inventory.js';

describe('postgres.switchover parameters and references', () => {
  const inventory = offlineInventory();
  const action = createPostgresSwitchoverAction({ inventory });

  test('checkRaw rejects a literal unknown or non-postgres cluster; at run time they are permanent errors', async () => {
    const check = (cluster: string) => (action.checkRaw?.({ cluster }) ?? []).map((problem) => problem.message);
    assert.deepEqual(check('{{ labels.cluster }}'), []);
    assert.match(check('nope').join(), /no cluster "nope" in the inventory/);
    assert.match(check('cache').join(), /cluster "cache" is of kind redis, this action needs postgres/);
    await assert.rejects(runAction(action, { cluster: 'cache' }), appError(errorCodes.STEP_PERMANENT, /kind redis, not postgres/));
  });

  test('the schema applies the defaults (planned, the best standby) and refuses unknown keys and bad values', () => {
    assert.deepEqual(action.schema.parse({ cluster: 'db' }), {
      cluster: 'db',
      to: '',
      mode: 'planned',
      maxLagBytes: 16 * 1024 * 1024,
      catchUpTimeout: 10_000,
      connectTimeout: 3000,
      promoteTimeout: 60_000,
    });
    assert.deepEqual(action.schema.parse({ cluster: 'db', to: 'pg-b', mode: 'unplanned', catchUpTimeout: '2s', maxLagBytes: 0 }), {
      cluster: 'db',
      to: 'pg-b',
      mode: 'unplanned',
      maxLagBytes: 0,
      catchUpTimeout: 2000,
      connectTimeout: 3000,
      promoteTimeout: 60_000,
    });
    for (const bad of [
      {},
      { cluster: 'db', force: true },
      { cluster: 'db', mode: 'graceful' },
      { cluster: 'db', catchUpTimeout: 0 },
      { cluster: 'db', maxLagBytes: -1 },
      { cluster: 'db', to: 3 },
    ]) {
      assert.equal(action.schema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});
