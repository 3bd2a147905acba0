import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeConfig, redactUrl } from '../../src/config/index.js';
import { secretValues } from '../../src/config/secret-values.js';
import { configOf, errorOf } from '../helpers/config.js';

describe('loadConfig', () => {
  test('a variable set to the empty string counts as unset, so PORT= does not become port 0', () => {
    const config = configOf({ PORT: '', HOST: '', LOG_LEVEL: '', WEBHOOK_BODY_LIMIT: '' });
    assert.equal(config.PORT, 9095);
    assert.equal(config.HOST, '127.0.0.1');
    assert.equal(config.LOG_LEVEL, 'info');
  });

  test('an empty environment gives the defaults', () => {
    const config = configOf({});
    assert.equal(config.PORT, 9095);
    assert.equal(config.HOST, '127.0.0.1');
    assert.equal(config.REMEDIATIONS_DIR, './remediations');
    assert.equal(config.DRY_RUN, false);
    assert.equal(config.LOG_LEVEL, 'info');
    assert.equal(config.WEBHOOK_TOKEN, undefined);
    assert.equal(config.REDIS_URL, undefined);
  });

  test('the result is frozen', () => {
    const config = configOf({});
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { PORT: number }).PORT = 1;
    }, TypeError);
  });

  test('values from the environment are parsed', () => {
    const config = configOf({
      PORT: '8080',
      HOST: '0.0.0.0',
      DRY_RUN: 'true',
      LOG_LEVEL: 'debug',
      REDIS_URL: 'redis://127.0.0.1:6379',
      RUN_RETENTION: '7d',
    });
    assert.equal(config.PORT, 8080);
    assert.equal(config.HOST, '0.0.0.0');
    assert.equal(config.DRY_RUN, true);
    assert.equal(config.LOG_LEVEL, 'debug');
    assert.equal(config.REDIS_URL, 'redis://127.0.0.1:6379');
    assert.equal(config.RUN_RETENTION, 7 * 86_400_000);
  });

  test('DRY_RUN accepts 1/yes as true and 0/no as false', () => {
    assert.equal(configOf({ DRY_RUN: '1' }).DRY_RUN, true);
    assert.equal(configOf({ DRY_RUN: 'yes' }).DRY_RUN, true);
    assert.equal(configOf({ DRY_RUN: '0' }).DRY_RUN, false);
    assert.equal(configOf({ DRY_RUN: 'no' }).DRY_RUN, false);
    assert.match(errorOf({ DRY_RUN: 'maybe' }), /DRY_RUN/);
  });

  test('secrets given as NAME_FILE are read through readFile with the trailing newline trimmed', () => {
    const reads: string[] = [];
    const files: Record<string, string> = { '/run/secrets/token': 'tok-123\n', '/run/secrets/admin': 'pa ss\r\n' };
    const config = configOf({ WEBHOOK_TOKEN_FILE: '/run/secrets/token', ADMIN_PASSWORD_FILE: '/run/secrets/admin' }, (path) => {
      reads.push(path);
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return text;
    });
    assert.deepEqual(reads.sort(), ['/run/secrets/admin', '/run/secrets/token']);
    assert.equal(config.WEBHOOK_TOKEN, 'tok-123');
    assert.equal(config.ADMIN_PASSWORD, 'pa ss');
  });

  test('only one trailing newline is trimmed from a secret file, other whitespace is kept', () => {
    const config = configOf({ WEBHOOK_TOKEN_FILE: '/t' }, () => ' tok \n\n');
    assert.equal(config.WEBHOOK_TOKEN, ' tok \n');
  });

  test('a URL secret such as REDIS_URL_FILE is validated after it is read', () => {
    assert.equal(configOf({ REDIS_URL_FILE: '/r' }, () => 'redis://:pw@127.0.0.1:6379\n').REDIS_URL, 'redis://:pw@127.0.0.1:6379');
    assert.match(
      errorOf({ REDIS_URL_FILE: '/r' }, () => 'http://127.0.0.1\n'),
      /REDIS_URL/,
    );
  });

  test('setting both a variable and its _FILE twin is an error', () => {
    const error = errorOf({ WEBHOOK_TOKEN: 'a', WEBHOOK_TOKEN_FILE: '/run/secrets/token' }, () => 'b');
    assert.match(error, /WEBHOOK_TOKEN: set either WEBHOOK_TOKEN or WEBHOOK_TOKEN_FILE, not both/);
  });

  test('an empty variable next to its _FILE twin is not a conflict', () => {
    assert.equal(configOf({ WEBHOOK_TOKEN: '', WEBHOOK_TOKEN_FILE: '/t' }, () => 'from-file').WEBHOOK_TOKEN, 'from-file');
  });

  test('an unreadable secret file is an error naming the variable, the path and the cause', () => {
    const error = errorOf({ ADMIN_PASSWORD_FILE: '/nope/admin' }, () => {
      throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
    });
    assert.match(error, /ADMIN_PASSWORD_FILE: cannot read \/nope\/admin \(ENOENT\)/);
  });

  test('an invalid PORT is a readable error naming PORT', () => {
    assert.match(errorOf({ PORT: 'http' }), /PORT/);
    assert.match(errorOf({ PORT: '70000' }), /PORT/);
    assert.match(errorOf({ PORT: '80.5' }), /PORT/);
  });

  test('an unknown LOG_LEVEL lists the valid ones', () => {
    const error = errorOf({ LOG_LEVEL: 'loud' });
    assert.match(error, /LOG_LEVEL/);
    assert.match(error, /"debug"/);
  });

  test('a REDIS_URL with another scheme is rejected', () => {
    assert.match(errorOf({ REDIS_URL: 'http://127.0.0.1:6379' }), /REDIS_URL/);
    assert.equal(configOf({ REDIS_URL: 'rediss://redis.example.com:6380' }).REDIS_URL, 'rediss://redis.example.com:6380');
  });

  test('every problem is reported together in one error', () => {
    const error = errorOf(
      { PORT: 'abc', LOG_LEVEL: 'loud', REDIS_URL: 'http://x', WEBHOOK_TOKEN: 'a', WEBHOOK_TOKEN_FILE: '/t', ADMIN_PASSWORD_FILE: '/a' },
      () => {
        throw Object.assign(new Error('denied'), { code: 'EACCES' });
      },
    );
    assert.match(error, /^invalid configuration:/);
    for (const name of ['PORT', 'LOG_LEVEL', 'REDIS_URL', 'WEBHOOK_TOKEN_FILE', 'ADMIN_PASSWORD_FILE: cannot read /a (EACCES)']) {
      assert.ok(error.includes(name), `the error mentions ${name}:\n${error}`);
    }
  });
});

describe('describeConfig and redactUrl', () => {
  test('no secret value appears in the described configuration', () => {
    const config = configOf(
      {
        WEBHOOK_TOKEN_FILE: '/t',
        ADMIN_PASSWORD: 'admin-pass-42',
        SMTP_URL: 'smtps://mailer:smtp-pass-99@mail.example.com:465',
        REDIS_URL: 'redis://:redis-pass-77@127.0.0.1:6379/0',
      },
      () => 'token-value-0123456789\n',
    );
    const text = JSON.stringify(describeConfig(config));
    for (const secret of ['token-value-0123456789', 'admin-pass-42', 'smtp-pass-99', 'redis-pass-77']) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    const described = describeConfig(config);
    assert.equal(described.WEBHOOK_TOKEN, '[redacted]');
    assert.equal(described.SMTP_URL, 'smtps://mailer:redacted@mail.example.com:465');
    assert.equal(described.PORT, 9095);
  });

  test('the approval link key is redacted in the description, read from APPROVAL_LINK_KEY_FILE, and masked in logs', () => {
    const key = 'approval-link-key-0123456789abcdefghij';
    const config = configOf({ APPROVAL_LINK_KEY_FILE: '/k', PUBLIC_URL: 'https://remediator.example.com' }, () => `${key}\n`);
    assert.equal(config.APPROVAL_LINK_KEY, key);
    assert.equal(describeConfig(config).APPROVAL_LINK_KEY, '[redacted]');
    assert.ok(!JSON.stringify(describeConfig(config)).includes(key));
    assert.ok(secretValues(config).includes(key));
  });

  test('an approval link key needs PUBLIC_URL, and is at least 32 characters long', () => {
    assert.match(errorOf({ APPROVAL_LINK_KEY: 'k'.repeat(32) }), /PUBLIC_URL: required with APPROVAL_LINK_KEY/);
    assert.match(
      errorOf({ APPROVAL_LINK_KEY: 'short', PUBLIC_URL: 'https://r.example.com' }),
      /at least 32 characters[\s\S]*APPROVAL_LINK_KEY/,
    );
    assert.match(errorOf({ APPROVAL_LINK_KEY: 'k'.repeat(32), PUBLIC_URL: 'ftp://r.example.com' }), /PUBLIC_URL/);
    assert.equal(configOf({ APPROVAL_LINK_KEY: 'k'.repeat(32), PUBLIC_URL: 'https://r.example.com' }).PUBLIC_URL, 'https://r.example.com');
  });

  test('unset secrets stay unset in the description', () => {
    const described = describeConfig(configOf({}));
    assert.equal(described.WEBHOOK_TOKEN, undefined);
    assert.equal(described.SMTP_URL, undefined);
  });

  test('redactUrl masks only the password and hides text that is not a URL', () => {
    assert.equal(redactUrl('redis://user:s3cret@host:6379/1'), 'redis://user:redacted@host:6379/1');
    assert.equal(redactUrl('redis://host:6379'), 'redis://host:6379');
    assert.equal(redactUrl('not a url with s3cret'), '[redacted]');
  });
});

describe('ADMIN_ALLOWED_ORIGINS', () => {
  test('is empty by default and otherwise a comma-separated list of origins, normalised as browsers send them', () => {
    assert.deepEqual(configOf({}).ADMIN_ALLOWED_ORIGINS, []);
    assert.deepEqual(configOf({ ADMIN_ALLOWED_ORIGINS: ' https://Remediator.Example/ , http://10.0.0.5:8080' }).ADMIN_ALLOWED_ORIGINS, [
      'https://remediator.example',
      'http://10.0.0.5:8080',
    ]);
  });

  test('a value that is not an origin (a path, credentials, another scheme, no scheme) stops start-up with the variable named', () => {
    for (const value of [
      'https://remediator.example/queues',
      'https://admin:pw@remediator.example',
      'ftp://remediator.example',
      'remediator.example',
    ]) {
      assert.match(errorOf({ ADMIN_ALLOWED_ORIGINS: value }), /ADMIN_ALLOWED_ORIGINS/, value);
    }
  });
});
