import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeConfig, parseSentinelAddress } from '../../src/config/index.js';
import { redisTargetOf } from '../../src/redis/redis-target.js';
import { configOf, errorOf } from '../helpers/config.js';

const sentinelEnv = { REDIS_SENTINELS: '10.0.0.1:26379,sentinel-2.example.com:26380,[fd00::3]:26379', REDIS_SENTINEL_NAME: 'remediator' };

describe('REDIS_SENTINELS and its companions', () => {
  test('a list of host:port, IPv6 in brackets, parses into hosts and ports in order', () => {
    const config = configOf(sentinelEnv);
    assert.deepEqual(config.REDIS_SENTINELS, [
      { host: '10.0.0.1', port: 26379 },
      { host: 'sentinel-2.example.com', port: 26380 },
      { host: 'fd00::3', port: 26379 },
    ]);
    assert.equal(config.REDIS_SENTINEL_NAME, 'remediator');
    assert.equal(config.REDIS_URL, undefined);
  });

  test('spaces around entries are allowed', () => {
    assert.deepEqual(configOf({ ...sentinelEnv, REDIS_SENTINELS: ' a:1 , [::1]:2 ' }).REDIS_SENTINELS, [
      { host: 'a', port: 1 },
      { host: '::1', port: 2 },
    ]);
  });

  test('unset, the sentinel variables stay undefined and the Redis target is REDIS_URL or none', () => {
    const config = configOf({});
    assert.equal(config.REDIS_SENTINELS, undefined);
    assert.equal(config.REDIS_SENTINEL_NAME, undefined);
    assert.equal(config.REDIS_SENTINEL_PASSWORD, undefined);
    assert.equal(config.REDIS_PASSWORD, undefined);
    assert.equal(redisTargetOf(config), undefined);
    assert.equal(redisTargetOf(configOf({ REDIS_URL: 'redis://127.0.0.1:6379' })), 'redis://127.0.0.1:6379');
  });

  test('every invalid entry is reported, each quoted with the reason', () => {
    const error = errorOf({
      ...sentinelEnv,
      REDIS_SENTINELS: 'ok:26379,no-port,::1:26379,[nope]:1,h:0,h:70000,a b:1,,999.1.1.1:5,ok:26379',
    });
    assert.match(error, /REDIS_SENTINELS/);
    for (const expected of [
      '"no-port": expected host:port',
      '"::1:26379": put an IPv6 address in brackets',
      '"[nope]:1": "nope" is not an IPv6 address',
      '"h:0": port must be 1-65535',
      '"h:70000": port must be 1-65535',
      '"a b:1": "a b" is not a host name',
      'entry 8 is empty',
      '"999.1.1.1:5": "999.1.1.1" is not a host name or IPv4 address',
      '"ok:26379" is listed twice',
    ]) {
      assert.ok(error.includes(expected), `the error says ${expected}:\n${error}`);
    }
  });

  test('parseSentinelAddress takes a bare IPv6 address for a missing bracket, not a host and a port', () => {
    const bare = parseSentinelAddress('fd00::3');
    assert.ok(typeof bare === 'string' && bare.includes('brackets'), `a bracket hint: ${JSON.stringify(bare)}`);
    assert.deepEqual(parseSentinelAddress('[fd00::3]:26379'), { host: 'fd00::3', port: 26379 });
    assert.deepEqual(parseSentinelAddress('[::ffff:10.0.0.1]:1'), { host: '::ffff:10.0.0.1', port: 1 });
  });

  test('REDIS_SENTINEL_NAME is required with REDIS_SENTINELS (there is no default master name)', () => {
    assert.match(errorOf({ REDIS_SENTINELS: '127.0.0.1:26379' }), /REDIS_SENTINEL_NAME: required with REDIS_SENTINELS/);
    assert.match(errorOf({ ...sentinelEnv, REDIS_SENTINEL_NAME: 'my master' }), /REDIS_SENTINEL_NAME/);
  });

  test('REDIS_URL and REDIS_SENTINELS together are an error saying to pick one', () => {
    const error = errorOf({ ...sentinelEnv, REDIS_URL: 'redis://127.0.0.1:6379' });
    assert.match(error, /REDIS_URL: set either REDIS_URL \(one Redis server\) or REDIS_SENTINELS .*not both/);
  });

  test('REDIS_URL_FILE with REDIS_SENTINELS is the same conflict', () => {
    assert.match(
      errorOf({ ...sentinelEnv, REDIS_URL_FILE: '/r' }, () => 'redis://127.0.0.1:6379\n'),
      /not both/,
    );
  });

  test('sentinel settings or REDIS_PASSWORD without REDIS_SENTINELS are an error, not silently ignored', () => {
    assert.match(errorOf({ REDIS_SENTINEL_NAME: 'remediator' }), /REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS/);
    const error = errorOf({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PASSWORD: 'pw-1234', REDIS_SENTINEL_PASSWORD: 'pw-5678' });
    assert.match(error, /REDIS_SENTINEL_PASSWORD, REDIS_PASSWORD: only used with REDIS_SENTINELS/);
    assert.match(error, /put the password in the URL \(redis:\/\/:password@host:6379\)/);
  });

  test('cross-variable problems are reported together with the per-variable ones', () => {
    const error = errorOf({ PORT: 'abc', REDIS_SENTINELS: 'no-port', REDIS_URL: 'redis://127.0.0.1:6379' });
    for (const name of ['PORT', '"no-port"', 'REDIS_URL: set either', 'REDIS_SENTINEL_NAME: required']) {
      assert.ok(error.includes(name), `the error mentions ${name}:\n${error}`);
    }
  });

  test('both passwords may come from _FILE, and setting a password and its _FILE twin is an error', () => {
    const files: Record<string, string> = { '/run/secrets/redis': 'data-pass-31\n', '/run/secrets/sentinel': 'sentinel-pass-32\n' };
    const config = configOf(
      { ...sentinelEnv, REDIS_PASSWORD_FILE: '/run/secrets/redis', REDIS_SENTINEL_PASSWORD_FILE: '/run/secrets/sentinel' },
      (path) => files[path] ?? '',
    );
    assert.equal(config.REDIS_PASSWORD, 'data-pass-31');
    assert.equal(config.REDIS_SENTINEL_PASSWORD, 'sentinel-pass-32');
    assert.match(
      errorOf({ ...sentinelEnv, REDIS_SENTINEL_PASSWORD: 'a', REDIS_SENTINEL_PASSWORD_FILE: '/s' }, () => 'b'),
      /REDIS_SENTINEL_PASSWORD: set either REDIS_SENTINEL_PASSWORD or REDIS_SENTINEL_PASSWORD_FILE, not both/,
    );
  });

  test('describeConfig shows the sentinels and hides both passwords', () => {
    const config = configOf({ ...sentinelEnv, REDIS_PASSWORD: 'data-pass-41', REDIS_SENTINEL_PASSWORD: 'sentinel-pass-42' });
    const described = describeConfig(config);
    const text = JSON.stringify(described);
    for (const secret of ['data-pass-41', 'sentinel-pass-42']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    assert.equal(described.REDIS_PASSWORD, '[redacted]');
    assert.equal(described.REDIS_SENTINEL_PASSWORD, '[redacted]');
    assert.equal(described.REDIS_SENTINELS, '10.0.0.1:26379,sentinel-2.example.com:26380,[fd00::3]:26379');
  });

  test('redisTargetOf turns the sentinel settings into a target with both passwords', () => {
    const config = configOf({ ...sentinelEnv, REDIS_PASSWORD: 'data-pass', REDIS_SENTINEL_PASSWORD: 'sentinel-pass' });
    assert.deepEqual(redisTargetOf(config), {
      sentinels: config.REDIS_SENTINELS,
      name: 'remediator',
      password: 'data-pass',
      sentinelPassword: 'sentinel-pass',
    });
  });
});
