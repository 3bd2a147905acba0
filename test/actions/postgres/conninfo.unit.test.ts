import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { conninfoEndpoints, formatConninfo, parseConninfo, repointedConninfo } from '../../../src/actions/postgres/conninfo.js';

describe('libpq connection strings (primary_conninfo)', () => {
  test('primary_conninfo values are quoted so a quote, backslash or space stays inside its value', () => {
    const hostile = "db' sslmode=disable \\ x";
    const conninfo = repointedConninfo(
      "user=replicator password='p\\'w' sslmode=verify-full hostaddr=10.0.0.9 host=old port=5432",
      { host: 'new-host', port: 6543 },
      {
        user: 'postgres',
        password: 'inventory-secret',
        applicationName: hostile,
      },
    );
    assert.deepEqual(
      [...parseConninfo(conninfo)],
      [
        ['user', 'replicator'],
        ['password', "p'w"],
        ['sslmode', 'verify-full'],
        ['host', 'new-host'],
        ['port', '6543'],
        ['application_name', hostile],
      ],
    );
    assert.deepEqual(
      [...parseConninfo(repointedConninfo('', { host: 'h', port: 1 }, { user: 'postgres', password: 'secret', applicationName: 'pg-b' }))],
      [
        ['host', 'h'],
        ['port', '1'],
        ['user', 'postgres'],
        ['password', 'secret'],
        ['application_name', 'pg-b'],
      ],
    );
    assert.deepEqual(
      [...parseConninfo('postgresql://rep:s%40cret@[::1]:5433/postgres?sslmode=require')],
      [
        ['user', 'rep'],
        ['password', 's@cret'],
        ['host', '::1'],
        ['port', '5433'],
        ['dbname', 'postgres'],
        ['sslmode', 'require'],
      ],
    );
    assert.equal(formatConninfo(new Map([['host', "a'b\\c"]])), "host='a\\'b\\\\c'");
  });

  test('key=value pairs allow spaces around "=", quoted values with escapes, and backslash escapes in bare values', () => {
    assert.deepEqual(
      [...parseConninfo("  host = db1\tport=5433 password='it\\'s' application_name='a b' options=x\\ y ")],
      [
        ['host', 'db1'],
        ['port', '5433'],
        ['password', "it's"],
        ['application_name', 'a b'],
        ['options', 'x y'],
      ],
    );
    assert.deepEqual([...parseConninfo("host=''")], [['host', '']], 'an empty quoted value is a value');
    assert.deepEqual([...parseConninfo('   ')], []);
  });

  test('a keyword without "=" or an unterminated quote is an error, not a guess', () => {
    assert.throws(() => parseConninfo('host=a port'), /missing "=" after "port"/);
    assert.throws(() => parseConninfo("host='a"), /unterminated quoted string/);
  });

  test('a later keyword replaces an earlier one, as in libpq', () => {
    assert.deepEqual([...parseConninfo('host=a host=b')], [['host', 'b']]);
  });

  test('the endpoints of a connection string pair each host with its port, the one port with every host, or 5432', () => {
    assert.deepEqual(conninfoEndpoints('host=a,b port=5433,5434'), [
      { host: 'a', port: 5433 },
      { host: 'b', port: 5434 },
    ]);
    assert.deepEqual(conninfoEndpoints('host=a,b port=6000'), [
      { host: 'a', port: 6000 },
      { host: 'b', port: 6000 },
    ]);
    assert.deepEqual(conninfoEndpoints('host=a'), [{ host: 'a', port: 5432 }]);
    assert.deepEqual(
      conninfoEndpoints('hostaddr=10.0.0.9 port=5433'),
      [{ host: '10.0.0.9', port: 5433 }],
      'hostaddr stands in for a missing host',
    );
    assert.deepEqual(conninfoEndpoints('host=a port=notaport'), [{ host: 'a', port: 5432 }]);
    assert.deepEqual(conninfoEndpoints('postgres://rep@[::1]:5433/postgres'), [{ host: '::1', port: 5433 }]);
  });

  test('a connection string that names no host, or cannot be parsed, has no endpoints', () => {
    assert.deepEqual(conninfoEndpoints(''), []);
    assert.deepEqual(conninfoEndpoints('user=replicator'), []);
    assert.deepEqual(conninfoEndpoints("host='unterminated"), []);
  });

  test('repointing an unparseable primary_conninfo starts afresh, and a passfile stops the inventory password from being added', () => {
    assert.deepEqual(
      [
        ...parseConninfo(
          repointedConninfo("host='broken", { host: 'new', port: 5432 }, { user: 'postgres', password: 'secret', applicationName: 'pg-b' }),
        ),
      ],
      [
        ['host', 'new'],
        ['port', '5432'],
        ['user', 'postgres'],
        ['password', 'secret'],
        ['application_name', 'pg-b'],
      ],
    );
    assert.deepEqual(
      [
        ...parseConninfo(
          repointedConninfo(
            'passfile=/etc/pgpass host=old',
            { host: 'new', port: 5432 },
            { user: 'postgres', password: 'secret', applicationName: 'pg-b' },
          ),
        ),
      ],
      [
        ['passfile', '/etc/pgpass'],
        ['host', 'new'],
        ['port', '5432'],
        ['user', 'postgres'],
        ['application_name', 'pg-b'],
      ],
    );
    assert.deepEqual(
      [
        ...parseConninfo(
          repointedConninfo(
            'host=old user=rep',
            { host: 'new', port: 5432 },
            { user: 'postgres', password: 'secret', applicationName: 'pg-b' },
          ),
        ),
      ],
      [
        ['host', 'new'],
        ['user', 'rep'],
        ['port', '5432'],
        ['application_name', 'pg-b'],
      ],
      'a standby with its own user keeps it and gets no inventory password',
    );
  });
});
