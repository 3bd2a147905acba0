import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { serverTlsOf } from '../../src/tls/server-tls-config.js';
import { configOf, errorOf } from '../helpers/config.js';

describe('the TLS settings', () => {
  test('default to plain HTTP with the files read again every minute once HTTPS is on', () => {
    const config = configOf({});
    assert.equal(config.TLS_CERT_FILE, undefined);
    assert.equal(config.TLS_RELOAD_INTERVAL, 60_000);
    assert.equal(
      serverTlsOf(config, () => {
        throw new Error('nothing is read for plain HTTP');
      }),
      undefined,
    );
  });

  test('a certificate without its key, a key without its certificate, a client CA without HTTPS and a reload interval under 1 s are each refused', () => {
    assert.match(errorOf({ TLS_CERT_FILE: '/etc/tls.crt' }), /TLS_KEY_FILE: required with TLS_CERT_FILE/);
    assert.match(errorOf({ TLS_KEY_FILE: '/etc/tls.key' }), /TLS_CERT_FILE: required with TLS_KEY_FILE/);
    assert.match(errorOf({ TLS_CLIENT_CA_FILE: '/etc/ca.pem' }), /TLS_CLIENT_CA_FILE: only used with HTTPS/);
    assert.match(errorOf({ TLS_RELOAD_INTERVAL: '0ms' }), /at least 1s[\s\S]*TLS_RELOAD_INTERVAL/);
    const both = configOf({ TLS_CERT_FILE: '/etc/tls.crt', TLS_KEY_FILE: '/etc/tls.key', TLS_RELOAD_INTERVAL: '10s' });
    assert.deepEqual([both.TLS_CERT_FILE, both.TLS_KEY_FILE, both.TLS_RELOAD_INTERVAL], ['/etc/tls.crt', '/etc/tls.key', 10_000]);
  });

  test('an unreadable or non-PEM file is named with its variable when the settings are built', () => {
    const config = configOf({ TLS_CERT_FILE: '/etc/tls.crt', TLS_KEY_FILE: '/etc/tls.key' });
    const missing = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    assert.throws(
      () =>
        serverTlsOf(config, () => {
          throw missing;
        }),
      /TLS_CERT_FILE: cannot read \/etc\/tls\.crt \(ENOENT\)/,
    );
    assert.throws(
      () => serverTlsOf(config, () => Buffer.from('not a certificate')),
      /TLS_CERT_FILE: \/etc\/tls\.crt is not a PEM certificate/,
    );
  });
});
