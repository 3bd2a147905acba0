import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatProblem } from '../../src/sources/index.js';
import { hashPassword } from '../../src/users/password-hash.js';
import { parseUsersSource } from '../../src/users/users-file.js';

const problemsOf = (text: string, reserved?: string) => {
  const result = parseUsersSource('users.yaml', text, reserved);
  assert.equal(result.success, false, 'expected problems');
  return result.problems.map(formatProblem);
};

describe('USERS_FILE is validated at start-up, every problem with its file, line and path', () => {
  test('a valid file gives its users with their roles', async () => {
    const hash = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
    const result = parseUsersSource(
      'users.yaml',
      `users:\n  - { name: ana, passwordHash: '${hash}', role: viewer }\n  - { name: bo, passwordHash: '${hash}', role: approver }\n`,
    );
    assert.deepEqual(result.success ? result.users.map(({ name, role }) => ({ name, role })) : result.problems, [
      { name: 'ana', role: 'viewer' },
      { name: 'bo', role: 'approver' },
    ]);
  });

  test('a bad role, a hash that is not one, a typo in a key and a name with a colon are all reported at once', () => {
    const problems = problemsOf(
      [
        'users:',
        '  - name: ana',
        '    passwordHash: hunter2',
        '    role: superuser',
        '  - name: "bo:b"',
        "    passwordHash: 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'",
        '    role: admin',
        '    rol: admin',
        '',
      ].join('\n'),
    );
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(
      problems[0] ?? '',
      /^users\.yaml:3: users\[0\]\.passwordHash: not a password hash: make one with `remediator hash-password`/,
    );
    assert.match(problems[1] ?? '', /^users\.yaml:4: users\[0\]\.role: .*"viewer"/);
    assert.match(problems[2] ?? '', /^users\.yaml:5: users\[1\]\.name: no ":"/);
    assert.match(problems[3] ?? '', /^users\.yaml:8: users\[1\]\.rol: unknown key "rol"/);
  });

  test('a name listed twice, or the name of ADMIN_USER while ADMIN_PASSWORD is set, is refused', () => {
    const hash = `scrypt$1024$8$1$${'A'.repeat(22)}$${'B'.repeat(43)}`;
    const problems = problemsOf(
      `users:\n  - { name: ana, passwordHash: '${hash}', role: viewer }\n  - { name: ana, passwordHash: '${hash}', role: admin }\n  - { name: admin, passwordHash: '${hash}', role: viewer }\n`,
      'admin',
    );
    assert.deepEqual(problems, [
      'users.yaml:3: users[1].name: user "ana" is listed twice',
      'users.yaml:4: users[2].name: user "admin" is ADMIN_USER, whose password is ADMIN_PASSWORD: rename one',
    ]);
  });

  test('an empty list, a file that is not YAML and a file without users are refused', () => {
    assert.match(problemsOf('users: []\n')[0] ?? '', /users: list at least one user/);
    assert.match(problemsOf('users: [\n')[0] ?? '', /^users\.yaml:\d+: /);
    assert.match(problemsOf('people: []\n').join('\n'), /unknown key "people"/);
  });
});
