import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { probeRtmpHandshake } from '../../src/exporters/rtmp-handshake.js';
import { freePort } from '../../src/util/free-port.js';
import { startNginxRtmp, type TestNginxRtmp } from '../helpers/nginx-rtmp.js';
import { waitFor } from '../helpers/wait.js';

/** A TCP server on loopback whose connections get `onConnection`; close() drops them all. */
async function tcpServer(
  onConnection: (socket: Socket) => void,
): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

describe('probeRtmpHandshake', () => {
  let nginx: TestNginxRtmp;
  before(async () => {
    nginx = await startNginxRtmp();
  });
  after(async () => {
    await nginx.stop();
  });

  test('a real nginx-rtmp ingest completes the handshake', async () => {
    assert.equal(await probeRtmpHandshake(nginx.host, nginx.rtmpPort, AbortSignal.timeout(5000)), true, nginx.output());
  });

  test('the probe sends version 3 and a 1536-byte C1, then echoes S1 as C2', async () => {
    const s1 = Buffer.alloc(1536, 0xab);
    let c0c1: Buffer | undefined;
    let c2: Buffer | undefined;
    const peer = await tcpServer((socket) => {
      let input = Buffer.alloc(0);
      socket.on('data', (data: Buffer) => {
        input = Buffer.concat([input, data]);
        if (c0c1 === undefined && input.length >= 1537) {
          c0c1 = input.subarray(0, 1537);
          input = input.subarray(1537);
          // S0, S1, then S2 echoing C1, as a plain-handshake server does.
          socket.write(Buffer.concat([Buffer.from([3]), s1, c0c1.subarray(1)]));
        }
        if (c0c1 !== undefined && input.length >= 1536) c2 = input.subarray(0, 1536);
      });
    });
    try {
      assert.equal(await probeRtmpHandshake('127.0.0.1', peer.port, AbortSignal.timeout(5000)), true);
      await waitFor('C2', () => c2);
      assert.equal(c0c1?.[0], 3);
      assert.deepEqual(c2, s1);
    } finally {
      await peer.close();
    }
  });

  test('a closed port fails at once', async () => {
    const port = await freePort();
    const started = Date.now();
    assert.equal(await probeRtmpHandshake('127.0.0.1', port, AbortSignal.timeout(5000)), false);
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  });

  test('a server that accepts and never answers fails when the signal times out', async () => {
    const silent = await tcpServer(() => undefined);
    try {
      const started = Date.now();
      assert.equal(await probeRtmpHandshake('127.0.0.1', silent.port, AbortSignal.timeout(300)), false);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 1500, `took ${elapsed} ms`);
      assert.equal(silent.connections(), 1);
    } finally {
      await silent.close();
    }
  });

  test('a server that answers with another protocol fails', async () => {
    const http = await tcpServer((socket) => {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    try {
      assert.equal(await probeRtmpHandshake('127.0.0.1', http.port, AbortSignal.timeout(5000)), false);
    } finally {
      await http.close();
    }
  });

  test('a server that sends S0 and S1 but closes before S2 fails', async () => {
    const partial = await tcpServer((socket) => {
      socket.once('data', () => {
        socket.end(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
      });
    });
    try {
      assert.equal(await probeRtmpHandshake('127.0.0.1', partial.port, AbortSignal.timeout(5000)), false);
    } finally {
      await partial.close();
    }
  });

  test('an already aborted signal fails without connecting', async () => {
    const server = await tcpServer(() => undefined);
    try {
      assert.equal(await probeRtmpHandshake('127.0.0.1', server.port, AbortSignal.abort()), false);
      assert.equal(server.connections(), 0);
    } finally {
      await server.close();
    }
  });
});
