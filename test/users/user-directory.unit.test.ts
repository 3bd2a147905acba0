import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashPassword } from '../../src/users/password-hash.js';
import { createUserDirectory } from '../../src/users/user-directory.js';

const cheap = { N: 1024, r: 8, p: 1 };

describe('the user directory checks a name and password against ADMIN_PASSWORD and USERS_FILE', async () => {
  const users = [
    { name: 'vera', role: 'viewer' as const, passwordHash: await hashPassword('vera-pw', cheap) },
    { name: 'otto', role: 'operator' as const, passwordHash: await hashPassword('otto-pw', cheap) },
  ];

  test('each user gets their role with their own password, and nothing with another or an unknown name', async () => {
    const directory = createUserDirectory({ admin: { name: 'admin', password: 'admin-pw' }, users });
    assert.deepEqual(await directory.verify('admin', 'admin-pw'), { name: 'admin', role: 'admin' });
    assert.deepEqual(await directory.verify('vera', 'vera-pw'), { name: 'vera', role: 'viewer' });
    assert.deepEqual(await directory.verify('otto', 'otto-pw'), { name: 'otto', role: 'operator' });
    for (const [name, password] of [
      ['admin', 'vera-pw'],
      ['vera', 'otto-pw'],
      ['vera', 'admin-pw'],
      ['nobody', 'vera-pw'],
      ['', ''],
    ] as const)
      assert.equal(await directory.verify(name, password), undefined, `${name}:${password}`);
  });

  test('a remembered password lets in only that user with that password, and is forgotten after its time', async () => {
    const clock = { ms: 0 };
    const directory = createUserDirectory({ users }, { ttlMs: 1000, maxEntries: 1, now: () => clock.ms });
    assert.deepEqual(await directory.verify('vera', 'vera-pw'), { name: 'vera', role: 'viewer' });
    assert.equal(await directory.verify('vera', 'vera-pw '), undefined);
    assert.equal(await directory.verify('otto', 'vera-pw'), undefined);
    // The name and the password are told apart: "ver" + "avera-pw" is not "vera" + "vera-pw".
    assert.equal(await directory.verify('ver', 'avera-pw'), undefined);
    clock.ms += 2000;
    assert.deepEqual(await directory.verify('vera', 'vera-pw'), { name: 'vera', role: 'viewer' });
    assert.deepEqual(await directory.verify('otto', 'otto-pw'), { name: 'otto', role: 'operator' });
  });

  test('with neither ADMIN_PASSWORD nor users nothing is configured and nobody gets in', async () => {
    const directory = createUserDirectory({});
    assert.equal(directory.configured, false);
    assert.equal(await directory.verify('admin', ''), undefined);
    assert.equal(createUserDirectory({ users }).configured, true);
  });
});
