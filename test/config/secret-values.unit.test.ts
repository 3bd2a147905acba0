import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { secretValues } from '../../src/config/secret-values.js';

const none = {
  WEBHOOK_TOKEN: undefined,
  ADMIN_PASSWORD: undefined,
  SMTP_URL: undefined,
  REDIS_URL: undefined,
  REDIS_PASSWORD: undefined,
  REDIS_SENTINEL_PASSWORD: undefined,
};

describe('secretValues: what the logger masks', () => {
  test('a token with a stray % is masked as written instead of stopping start-up with "URI malformed"', () => {
    assert.deepEqual(secretValues({ ...none, WEBHOOK_TOKEN: 'ab%zz' }), ['ab%zz']);
  });

  test('a token that looks percent-encoded is masked as itself, not as its decoding', () => {
    assert.deepEqual(secretValues({ ...none, ADMIN_PASSWORD: 'a%41bc' }), ['a%41bc']);
  });

  test('a URL password is masked both as written in the URL and decoded', () => {
    assert.deepEqual(secretValues({ ...none, REDIS_URL: 'redis://:p%40ss@127.0.0.1:6379', SMTP_URL: 'smtp://u:plain@mail:25' }), [
      'plain',
      'p%40ss',
      'p@ss',
    ]);
  });

  test('inventory passwords and the Sentinel passwords are included; empty values are not', () => {
    assert.deepEqual(
      secretValues({ ...none, REDIS_PASSWORD: 'r', REDIS_SENTINEL_PASSWORD: 's', WEBHOOK_TOKEN: '' }, ['inv', undefined, '']),
      ['r', 's', 'inv'],
    );
  });
});
