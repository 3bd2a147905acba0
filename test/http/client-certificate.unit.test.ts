import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { checkClientCertificate } from '../../src/http/client-certificate.js';

/** The check on a request over a connection like `socket`, as one line: `ok` or `status code: message`. */
const verdictOn = (socket: object) => {
  const check = checkClientCertificate({ socket } as unknown as IncomingMessage);
  return check.ok ? 'ok' : `${check.status} ${check.code}: ${check.message}`;
};

describe('the client certificate check of the webhook', () => {
  test('a connection whose certificate the server verified passes', () => {
    assert.equal(verdictOn({ authorized: true, getPeerCertificate: () => ({ subject: {} }) }), 'ok');
  });

  test('a connection without a certificate is a 401 that says which CA must sign one, and so is a plain connection', () => {
    assert.match(
      verdictOn({ authorized: false, getPeerCertificate: () => ({}) }),
      /^401 CLIENT_CERTIFICATE_REQUIRED: .*TLS_CLIENT_CA_FILE/,
    );
    assert.match(verdictOn({}), /^401 CLIENT_CERTIFICATE_REQUIRED/);
  });

  test('a certificate the server did not verify is a 403 with OpenSSL reason', () => {
    assert.match(
      verdictOn({ authorized: false, authorizationError: 'CERT_HAS_EXPIRED', getPeerCertificate: () => ({ subject: { CN: 'am' } }) }),
      /^403 CLIENT_CERTIFICATE_REFUSED: .*CERT_HAS_EXPIRED$/,
    );
  });
});
