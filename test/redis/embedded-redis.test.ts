import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startEmbeddedRedis } from '../../src/redis/embedded-redis.js';
import { prepareEmbeddedRedisDir, readEmbeddedRedisUrl } from '../../src/redis/embedded-redis-files.js';
import { freePort } from '../../src/util/free-port.js';
import { isRunning } from '../../src/util/process-status.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';

const logger = pino({ level: 'silent' });

/** Sends one inline command on a raw connection (no client library, so no AUTH of its own) and returns the reply line. */
function rawCommand(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(`${line}\r\n`);
    });
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      received += chunk;
      if (!received.includes('\r\n')) return;
      socket.destroy();
      resolve(received.slice(0, received.indexOf('\r\n')));
    });
  });
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Every file and directory below `dir` (itself included) with its permission bits. */
async function modes(dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>([[dir, (await stat(dir)).mode & 0o777]]);
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    found.set(path, (await stat(path)).mode & 0o777);
  }
  return found;
}

describe('embedded Redis', () => {
  const cleanups: (() => Promise<void>)[] = [];
  const dataDir = async () => {
    const dir = await tempDir('remediator-embedded-');
    cleanups.push(dir.remove);
    return dir.path;
  };
  const start = async (dataPath: string) => {
    const embedded = await startEmbeddedRedis({ ...(await prepareEmbeddedRedisDir(dataPath)), logger });
    cleanups.unshift(() => embedded.stop());
    return embedded;
  };
  const client = (url: string) => {
    const connection = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
    connection.on('error', () => undefined);
    cleanups.unshift(() => {
      connection.disconnect();
      return Promise.resolve();
    });
    return connection;
  };

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  after(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  test('the directory and every file in it (password, state, AOF, log) are private to the owner: 0700 and 0600', async () => {
    const data = await dataDir();
    const embedded = await start(data);
    await client(embedded.url).set('k', 'v');
    const found = await modes(join(data, 'redis'));
    const names = [...found.keys()].map((path) => path.slice(join(data, 'redis').length));
    for (const expected of ['/password', '/embedded.json', '/redis.log', '/appendonlydir'])
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
    assert.ok(
      names.some((name) => name.startsWith('/appendonlydir/') && name.endsWith('.aof')),
      'the AOF files are there',
    );
    for (const [path, mode] of found) {
      const directory = (await stat(path)).isDirectory();
      assert.equal(mode.toString(8), directory ? '700' : '600', `${path} is ${mode.toString(8)}`);
    }
  });

  test('a client without the password is refused with NOAUTH; the URL carries the password and works', async () => {
    const embedded = await start(await dataDir());
    assert.match(await rawCommand(portOf(embedded.url), 'PING'), /^-NOAUTH/);
    assert.match(await rawCommand(portOf(embedded.url), 'SET approval forged'), /^-NOAUTH/);
    const connection = client(embedded.url);
    assert.equal(await connection.ping(), 'PONG');
    assert.equal(await connection.set('k', 'v'), 'OK');
  });

  test("the password is passed on stdin: it is not in the server's command line, nor in its state file", async () => {
    const data = await dataDir();
    const embedded = await start(data);
    const password = decodeURIComponent(new URL(embedded.url).password);
    assert.ok(password.length >= 32);
    assert.ok(!(await readFile(`/proc/${embedded.pid ?? 0}/cmdline`, 'utf8')).includes(password));
    assert.ok(!(await readFile(join(data, 'redis', 'embedded.json'), 'utf8')).includes(password));
    assert.equal((await readFile(join(data, 'redis', 'password'), 'utf8')).trim(), password);
  });

  test('a second start while the server runs (its remediator was killed) adopts it, with the same password, and sees its data', async () => {
    const data = await dataDir();
    const first = await startEmbeddedRedis({ ...(await prepareEmbeddedRedisDir(data)), logger });
    cleanups.unshift(() => first.stop());
    await client(first.url).set('queued', 'run-1');
    const second = await start(data);
    assert.equal(second.pid, first.pid, 'no second server on the same files');
    assert.equal(second.url, first.url);
    assert.equal(await client(second.url).get('queued'), 'run-1');
    assert.equal(await readEmbeddedRedisUrl(data), second.url);
  });

  test('a start after a clean stop reuses the password, and the AOF data is still reachable', async () => {
    const data = await dataDir();
    const first = await startEmbeddedRedis({ ...(await prepareEmbeddedRedisDir(data)), logger });
    const writer = client(first.url);
    await writer.set('queued', 'run-1');
    writer.disconnect();
    await first.stop();
    assert.equal(await isRunning(first.pid ?? 0), false);
    const second = await start(data);
    assert.notEqual(second.pid, first.pid);
    assert.equal(new URL(second.url).password, new URL(first.url).password);
    assert.equal(await client(second.url).get('queued'), 'run-1');
  });

  test('an unprotected server an older version left running is stopped and replaced by a protected one on the same data', async () => {
    const data = await dataDir();
    const dir = join(data, 'redis');
    // As remediator before the password: no requirepass, state { pid, url }, files created with the usual umask.
    await mkdir(dir, { mode: 0o755 });
    const port = await freePort();
    const legacy = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no'],
      { stdio: 'ignore', detached: true },
    );
    legacy.unref();
    const legacyPid = legacy.pid ?? 0;
    cleanups.push(async () => {
      if (await isRunning(legacyPid)) process.kill(legacyPid, 'SIGKILL');
    });
    await waitFor('the legacy server', async () => (await rawCommand(port, 'PING').catch(() => '')) === '+PONG');
    assert.equal(await rawCommand(port, 'SET queued run-1'), '+OK');
    await writeFile(join(dir, 'embedded.json'), JSON.stringify({ pid: legacyPid, url: `redis://127.0.0.1:${port}` }), { mode: 0o644 });
    await chmod(join(dir, 'embedded.json'), 0o644);

    const embedded = await start(data);
    assert.notEqual(embedded.pid, legacyPid);
    assert.equal(await isRunning(legacyPid), false, 'the unprotected server was stopped');
    assert.match(await rawCommand(portOf(embedded.url), 'PING'), /^-NOAUTH/);
    assert.equal(await client(embedded.url).get('queued'), 'run-1', "the new server loaded the old one's AOF");
    for (const [path, mode] of await modes(dir)) assert.ok(mode === 0o600 || mode === 0o700, `${path} is ${mode.toString(8)}`);
  });

  describe('when the server dies', () => {
    test('it is started again on the same port with the same password, the restart is counted, and the data is kept', async () => {
      const embedded = await start(await dataDir());
      const connection = client(embedded.url);
      await connection.set('queued', 'run-1');
      const first = embedded.pid ?? 0;
      process.kill(first, 'SIGKILL');
      await waitFor('a new server', () => embedded.restarts === 1 && embedded.pid !== first, 20_000);
      assert.equal(await isRunning(first), false);
      // The same URL: the client that was connected reconnects by itself.
      assert.equal(await connection.get('queued'), 'run-1');
      assert.match(await rawCommand(portOf(embedded.url), 'PING'), /^-NOAUTH/);
    });

    test('an adopted server (not a child of this process) is watched by its pid and started again too', async () => {
      const data = await dataDir();
      // The process that started it is gone in real life; here it only must not restart the server itself.
      const earlier = await startEmbeddedRedis({ ...(await prepareEmbeddedRedisDir(data)), logger, restart: { attempts: 0 } });
      cleanups.unshift(() => earlier.stop());
      const adopted = await startEmbeddedRedis({ ...(await prepareEmbeddedRedisDir(data)), logger, restart: { watchIntervalMs: 100 } });
      cleanups.unshift(() => adopted.stop());
      assert.equal(adopted.pid, earlier.pid);
      await client(adopted.url).set('queued', 'run-1');
      process.kill(adopted.pid ?? 0, 'SIGKILL');
      await waitFor('the adopted server to be started again', () => adopted.restarts === 1, 20_000);
      assert.equal(await client(adopted.url).get('queued'), 'run-1');
    });

    test('when it cannot be started again, onGiveUp is called after the configured attempts', async () => {
      const data = await dataDir();
      const tools = await dataDir();
      // A redis-server that refuses to start once the marker exists, as a full disk or a broken binary would.
      const marker = join(tools, 'broken');
      const binary = join(tools, 'redis-server');
      await writeFile(binary, `#!/bin/sh\n[ -e '${marker}' ] && exit 1\nexec redis-server "$@"\n`, { mode: 0o755 });
      let gaveUp: unknown;
      const embedded = await startEmbeddedRedis({
        ...(await prepareEmbeddedRedisDir(data)),
        logger,
        binary,
        restart: { attempts: 3, initialDelayMs: 10, maxDelayMs: 20 },
        onGiveUp: (error) => {
          gaveUp = error ?? 'no error';
        },
      });
      cleanups.unshift(() => embedded.stop());
      await writeFile(marker, '');
      process.kill(embedded.pid ?? 0, 'SIGKILL');
      await waitFor('the supervisor to give up', () => gaveUp !== undefined, 30_000);
      assert.match(String(gaveUp), /redis-server did not start/);
      assert.equal(embedded.restarts, 0);
    });
  });
});
