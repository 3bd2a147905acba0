import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRedisSentinelFailoverAction } from '../../../src/actions/redis/sentinel-failover-action.js';

describe('redis.sentinel-failover action parameters', () => {
  const action = createRedisSentinelFailoverAction();

  test('the parameters are checked: sentinels as host:port, at least one and each once, a plain master name', () => {
    const ok = { sentinels: ['127.0.0.1:26379'], masterName: 'mymaster' };
    const parsed = action.schema.parse(ok) as { timeout: number };
    assert.equal(parsed.timeout, 30_000);
    assert.equal((action.schema.parse({ ...ok, timeout: '45s' }) as { timeout: number }).timeout, 45_000);
    for (const bad of [
      { ...ok, sentinels: [] },
      { ...ok, sentinels: ['localhost'] },
      { ...ok, sentinels: ['127.0.0.1:26379', '127.0.0.1:26379'] },
      { ...ok, masterName: 'my master' },
      { ...ok, masterName: 'mymaster\r\nSHUTDOWN' },
      { ...ok, masterName: '' },
      { ...ok, password: 'secret' },
      { ...ok, timeout: 0 },
    ]) {
      assert.equal(action.schema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});
