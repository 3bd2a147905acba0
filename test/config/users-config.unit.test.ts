import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configOf, errorOf } from '../helpers/config.js';

describe('USERS_FILE and the trusted proxy settings', () => {
  test('the proxy settings are parsed: header names, a role, a comma-separated list of addresses and blocks', () => {
    const config = configOf({
      USERS_FILE: '/etc/remediator/users.yaml',
      TRUSTED_PROXY_USER_HEADER: 'X-Forwarded-User',
      TRUSTED_PROXY_ROLE_HEADER: 'X-Forwarded-Role',
      TRUSTED_PROXY_DEFAULT_ROLE: 'approver',
      TRUSTED_PROXIES: '10.0.0.5, 10.1.0.0/16,fd00::/8',
    });
    assert.deepEqual(
      [
        config.USERS_FILE,
        config.TRUSTED_PROXY_USER_HEADER,
        config.TRUSTED_PROXY_ROLE_HEADER,
        config.TRUSTED_PROXY_DEFAULT_ROLE,
        config.TRUSTED_PROXIES,
      ],
      ['/etc/remediator/users.yaml', 'X-Forwarded-User', 'X-Forwarded-Role', 'approver', ['10.0.0.5', '10.1.0.0/16', 'fd00::/8']],
    );
    assert.equal(configOf({}).TRUSTED_PROXY_DEFAULT_ROLE, 'viewer');
    assert.deepEqual(configOf({}).TRUSTED_PROXIES, []);
  });

  test('a user header without TRUSTED_PROXIES, or proxy settings without the user header, stop start-up', () => {
    assert.match(errorOf({ TRUSTED_PROXY_USER_HEADER: 'X-Forwarded-User' }), /TRUSTED_PROXIES: required with TRUSTED_PROXY_USER_HEADER/);
    assert.match(errorOf({ TRUSTED_PROXIES: '127.0.0.1' }), /TRUSTED_PROXIES: only used with TRUSTED_PROXY_USER_HEADER/);
  });

  test('a proxy that is not an address, a header name with a space and an unknown role are each named', () => {
    const error = errorOf({
      TRUSTED_PROXY_USER_HEADER: 'X Forwarded User',
      TRUSTED_PROXY_DEFAULT_ROLE: 'root',
      TRUSTED_PROXIES: 'proxy.example.org',
    });
    assert.match(error, /TRUSTED_PROXY_USER_HEADER/);
    assert.match(error, /TRUSTED_PROXY_DEFAULT_ROLE/);
    assert.match(error, /"proxy\.example\.org" is not an address or a CIDR block\n\s*→ at TRUSTED_PROXIES/);
  });
});
