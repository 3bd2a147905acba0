import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadInventory, parseInventorySource, type SecretReader } from '../../src/inventory/load-inventory.js';
import { formatProblem } from '../../src/sources/index.js';

const noSecrets: SecretReader = () => {
  throw new Error('no secrets here');
};

function problemsOf(text: string, readSecret: SecretReader = noSecrets): string[] {
  const result = parseInventorySource('inventory.yaml', text, readSecret);
  if (result.success) assert.fail('the inventory loaded');
  return result.problems.map(formatProblem);
}

describe('the inventory', () => {
  test('clusters, members and defaults are loaded, with host and port split from the address', () => {
    const result = parseInventorySource(
      'inventory.yaml',
      `clusters:
  cache:
    kind: redis
    members:
      - { name: cache-a, address: 127.0.0.1:6381 }
      - { name: cache-b, address: '[::1]:6382', priority: 10, healthUrl: http://127.0.0.1:8080/health }
`,
      noSecrets,
    );
    if (!result.success) assert.fail(result.problems.map(formatProblem).join('\n'));
    const cache = result.inventory.clusters.get('cache');
    assert.equal(cache?.kind, 'redis');
    assert.deepEqual(
      cache.members.map((member) => [member.name, member.host, member.port, member.priority]),
      [
        ['cache-a', '127.0.0.1', 6381, 0],
        ['cache-b', '::1', 6382, 10],
      ],
    );
    assert.equal(cache.password, undefined);
  });

  test('a password written inline is refused with the fix, never accepted', () => {
    const problems = problemsOf(
      'clusters:\n  db:\n    kind: postgres\n    credentials: { username: app, password: hunter2 }\n    members: [{ name: db-1, address: 127.0.0.1:5432 }]\n',
    );
    assert.deepEqual(problems, [
      'inventory.yaml:4: clusters.db.credentials.password: passwords are never written in the inventory: use passwordFile or passwordEnv',
    ]);
  });

  test('every problem is reported at once with its line: kind, address, typo, duplicates', () => {
    const problems = problemsOf(`clusters:
  cache:
    kind: redsi
    members:
      - { name: a, address: localhost }
      - { name: b, address: 127.0.0.1:70000, prio: 1 }
`);
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems[0] ?? '', /^inventory\.yaml:3: clusters\.cache\.kind: /);
    assert.match(problems[1] ?? '', /^inventory\.yaml:5: clusters\.cache\.members\[0\]\.address: must be host:port/);
    assert.match(problems[2] ?? '', /^inventory\.yaml:6: clusters\.cache\.members\[1\]\.address: port must be 1-65535/);
    assert.match(problems[3] ?? '', /^inventory\.yaml:6: clusters\.cache\.members\[1\]\.prio: unknown key "prio"/);
    const duplicates = problemsOf(
      'clusters:\n  c:\n    kind: redis\n    members:\n      - { name: a, address: 127.0.0.1:1 }\n      - { name: a, address: 127.0.0.1:1 }\n',
    );
    assert.deepEqual(duplicates, [
      'inventory.yaml:6: clusters.c.members[1].name: member name "a" is used twice in c',
      'inventory.yaml:6: clusters.c.members[1].address: address 127.0.0.1:1 is used twice in c',
    ]);
  });

  test('passwordEnv and passwordFile are resolved through the reader, and a failing reference names the cluster', () => {
    const reader: SecretReader = (reference) => {
      if (reference.passwordEnv === 'CACHE_PASSWORD') return 's3cret';
      throw new Error(`cannot read ${reference.passwordFile ?? reference.passwordEnv ?? '?'}`);
    };
    const ok = parseInventorySource(
      'inventory.yaml',
      'clusters:\n  c:\n    kind: redis\n    credentials: { passwordEnv: CACHE_PASSWORD }\n    members: [{ name: a, address: 127.0.0.1:1 }]\n',
      reader,
    );
    assert.ok(ok.success);
    assert.equal(ok.inventory.clusters.get('c')?.password, 's3cret');
    assert.deepEqual(
      problemsOf(
        'clusters:\n  c:\n    kind: redis\n    credentials: { passwordFile: /nope }\n    members: [{ name: a, address: 127.0.0.1:1 }]\n',
        reader,
      ),
      ['inventory.yaml:4: clusters.c.credentials: cannot read /nope'],
    );
    assert.match(
      problemsOf(
        'clusters:\n  c:\n    kind: redis\n    credentials: { passwordFile: /a, passwordEnv: B }\n    members: [{ name: a, address: 127.0.0.1:1 }]\n',
        reader,
      )[0] ?? '',
      /not both/,
    );
  });

  test('a missing file is an empty inventory at the default path and an error when it was asked for', async () => {
    const optional = await loadInventory('/nonexistent/inventory.yaml', { required: false, readSecret: noSecrets });
    assert.ok(optional.success);
    assert.equal(optional.inventory.clusters.size, 0);
    const required = await loadInventory('/nonexistent/inventory.yaml', { required: true, readSecret: noSecrets });
    assert.equal(required.success, false);
  });
});
