import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { freePort } from '../../src/util/free-port.js';

describe('freePort', () => {
  test('hands out ports outside the kernel range for outgoing connections, so a client socket cannot take one before the server binds it', async () => {
    const [low, high] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/).map(Number);
    assert.ok(low !== undefined && high !== undefined);
    for (let i = 0; i < 50; i++) {
      const port = await freePort();
      assert.ok(port < low || port > high, `port ${port} is inside the ephemeral range ${low}-${high}`);
    }
  });

  test('never hands out the same port twice in a row, though each is free again once checked', async () => {
    const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    const sequential: number[] = [];
    for (let i = 0; i < 200; i++) sequential.push(await freePort());
    assert.equal(new Set([...ports, ...sequential]).size, 400);
  });

  test('the port it returns can be bound at once', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        resolve();
      });
    });
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });
});
