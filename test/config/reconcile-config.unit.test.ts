import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeConfig } from '../../src/config/index.js';
import { secretValues } from '../../src/config/secret-values.js';
import { configOf, errorOf } from '../helpers/config.js';

describe('the reconcile loop settings', () => {
  test('default to a pass every 5 s, a 15 s lease, a 2 minute warm-up, a recheck after 30 s and no Alertmanager', () => {
    const config = configOf({});
    assert.equal(config.RECONCILE_INTERVAL, 5000);
    assert.equal(config.RECONCILE_LEASE_TTL, 15_000);
    assert.equal(config.RECONCILE_ALERTMANAGER_WARMUP, 120_000);
    assert.equal(config.RECONCILE_RECHECK_AFTER, 30_000);
    assert.deepEqual(config.ALERTMANAGER_URL, []);
  });

  test('RECONCILE_INTERVAL=0 or off turns the loop off', () => {
    assert.equal(configOf({ RECONCILE_INTERVAL: '0' }).RECONCILE_INTERVAL, 0);
    assert.equal(configOf({ RECONCILE_INTERVAL: 'off' }).RECONCILE_INTERVAL, 0);
  });

  test('a lease no longer than the interval is refused, since it would lapse between two renewals', () => {
    assert.match(
      errorOf({ RECONCILE_INTERVAL: '10s', RECONCILE_LEASE_TTL: '10s' }),
      /RECONCILE_LEASE_TTL: must be longer than RECONCILE_INTERVAL/,
    );
    assert.match(errorOf({ RECONCILE_INTERVAL: '20s' }), /RECONCILE_LEASE_TTL/);
    assert.equal(configOf({ RECONCILE_INTERVAL: '0', RECONCILE_LEASE_TTL: '1s' }).RECONCILE_INTERVAL, 0);
  });

  test('ALERTMANAGER_URL lists Alertmanagers separated by commas; a bad one is named without its credentials', () => {
    assert.deepEqual(configOf({ ALERTMANAGER_URL: 'http://am-1:9093, http://am-2:9093/' }).ALERTMANAGER_URL, [
      'http://am-1:9093',
      'http://am-2:9093/',
    ]);
    const error = errorOf({ ALERTMANAGER_URL: 'ftp://user:s3cret@am-1:9093' });
    assert.match(error, /ftp:\/\/\[redacted\]@am-1:9093 is not an http\(s\) URL/);
    assert.doesNotMatch(error, /s3cret/);
  });

  test('the password of an Alertmanager URL is masked in logs and in the start-up line', () => {
    const config = configOf({ ALERTMANAGER_URL: 'http://remediator:am%2Fpass@am-1:9093' });
    assert.deepEqual(secretValues(config), ['am%2Fpass', 'am/pass']);
    assert.doesNotMatch(JSON.stringify(describeConfig(config)), /am%2Fpass|am\/pass/);
  });
});
