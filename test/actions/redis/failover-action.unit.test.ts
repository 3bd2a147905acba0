import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRedisFailoverAction } from '../../../src/actions/redis/failover-action.js';
import { parseInventorySource } from '../../../src/inventory/load-inventory.js';

describe('redis.failover at load time', () => {
  test('a literal cluster missing from the inventory, or of another kind, is a load-time error', () => {
    const result = parseInventorySource(
      'inventory.yaml',
      'clusters:\n  db:\n    kind: postgres\n    members: [{ name: db-1, address: 127.0.0.1:5432 }]\n',
      () => '',
    );
    assert.ok(result.success);
    const action = createRedisFailoverAction({ inventory: result.inventory });
    assert.match(action.checkRaw?.({ cluster: 'cache' })[0]?.message ?? '', /no cluster "cache" in the inventory/);
    assert.match(action.checkRaw?.({ cluster: 'db' })[0]?.message ?? '', /kind postgres, this action needs redis/);
    assert.deepEqual(action.checkRaw?.({ cluster: '{{ labels.cluster }}' }), [], 'a templated cluster is checked at run time');
  });
});
