import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPostgresPromoteAction } from '../../../src/actions/postgres/promote-action.js';
import { errorCodes } from '../../../src/core/errors/index.js';
import { appError, runAction } from '../../helpers/action-run.js';
import { offlineInventory } from './promote-inventory.js';

describe('postgres.promote parameters and references', () => {
  const inventory = offlineInventory();
  const action = createPostgresPromoteAction({ inventory });

  test('checkRaw rejects a literal unknown cluster and a non-postgres cluster, and leaves templated ones to run time', () => {
    assert.equal(typeof action.checkRaw, 'function', 'the action checks cluster references at load time');
    const check = (cluster: string): { path: (string | number)[]; message: string }[] => action.checkRaw?.({ cluster }) ?? [];
    assert.deepEqual(check('db'), []);
    assert.deepEqual(check('{{ labels.cluster }}'), []);
    const missing = check('nope');
    assert.equal(missing.length, 1);
    const [problem] = missing;
    assert.ok(problem);
    assert.deepEqual(problem.path, ['cluster']);
    assert.match(problem.message, /no cluster "nope" in the inventory/);
    assert.match(check('cache')[0]?.message ?? '', /cluster "cache" is of kind redis, this action needs postgres/);
  });

  test('a cluster that turns out unknown or of another kind at run time is a permanent error', async () => {
    await assert.rejects(runAction(action, { cluster: 'nope' }), appError(errorCodes.STEP_PERMANENT, /no cluster "nope"/));
    await assert.rejects(runAction(action, { cluster: 'cache' }), appError(errorCodes.STEP_PERMANENT, /kind redis, not postgres/));
  });

  test('the schema applies the defaults and refuses unknown keys and bad values', () => {
    assert.deepEqual(action.schema.parse({ cluster: 'db' }), {
      cluster: 'db',
      maxLagBytes: 16 * 1024 * 1024,
      connectTimeout: 3000,
      promoteTimeout: 60_000,
      confirm: { probes: 4, window: 1500, quorum: 'majority', probeTimeout: 250 },
      protect: true,
      promote: true,
    });
    assert.deepEqual(
      action.schema.parse({
        cluster: 'db',
        maxLagBytes: 0,
        connectTimeout: '500ms',
        promoteTimeout: '2m',
        confirm: { window: '3s', quorum: 2 },
        protect: false,
        promote: false,
      }),
      {
        cluster: 'db',
        maxLagBytes: 0,
        connectTimeout: 500,
        promoteTimeout: 120_000,
        confirm: { probes: 4, window: 3000, quorum: 2, probeTimeout: 250 },
        protect: false,
        promote: false,
      },
    );
    for (const bad of [
      {},
      { cluster: 'db', force: true },
      { cluster: 'db', maxLagBytes: -1 },
      { cluster: 'db', maxLagBytes: 1.5 },
      { cluster: 'db', connectTimeout: 'soon' },
      { cluster: 'db', promoteTimeout: 0 },
      { cluster: 'db', confirm: { quorum: 0 } },
      { cluster: 'db', confirm: { probes: 2, wait: '1s' } },
      { cluster: 'db', protect: 'yes' },
      { cluster: 'db', promote: 'no' },
    ]) {
      assert.equal(action.schema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});
