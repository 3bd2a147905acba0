import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashPassword, parsePasswordHash, verifyPassword } from '../../src/users/password-hash.js';

// A low cost keeps the unit tier fast; the format carries the cost, so verification follows it.
const cheap = { N: 1024, r: 8, p: 1 };

describe('password hashes are scrypt, self-describing and checked in constant time', () => {
  test('a hash verifies its own password and no other', async () => {
    const hash = await hashPassword('correct horse', cheap);
    assert.match(hash, /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    assert.equal(await verifyPassword('correct horse', hash), true);
    assert.equal(await verifyPassword('correct horse ', hash), false);
    assert.equal(await verifyPassword('', hash), false);
  });

  test('two hashes of one password differ, because each has its own salt', async () => {
    const [a, b] = await Promise.all([hashPassword('same', cheap), hashPassword('same', cheap)]);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword('same', a), true);
    assert.equal(await verifyPassword('same', b), true);
  });

  test('the default cost is what new hashes get', async () => {
    const hash = await hashPassword('x');
    assert.match(hash, /^scrypt\$32768\$8\$1\$/);
    assert.equal(await verifyPassword('x', hash), true);
  });

  test('a malformed or too costly hash is refused with a reason and never verifies', async () => {
    const salt = 'A'.repeat(22);
    const key = 'B'.repeat(43);
    for (const [hash, reason] of [
      ['plaintext', /not a password hash/],
      [`bcrypt$10$8$1$${salt}$${key}`, /not a password hash/],
      [`scrypt$1000$8$1$${salt}$${key}`, /power of two/],
      [`scrypt$1024$0$1$${salt}$${key}`, /r and p/],
      [`scrypt$1048576$8$1$${salt}$${key}`, /256 MiB/],
    ] as const) {
      const parsed = parsePasswordHash(hash);
      assert.equal(parsed.success, false, hash);
      assert.match(parsed.message, reason);
      assert.equal(await verifyPassword('anything', hash), false);
    }
  });
});
