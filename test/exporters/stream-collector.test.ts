import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createStreamCollector } from '../../src/exporters/stream-collector.js';
import type { InventoryCluster, InventoryMember } from '../../src/inventory/inventory.js';
import { freePort } from '../../src/util/free-port.js';
import { startNginxRtmp, type TestNginxRtmp } from '../helpers/nginx-rtmp.js';

function clusterOf(member: Omit<InventoryMember, 'priority'>): { cluster: InventoryCluster; member: InventoryMember } {
  const full: InventoryMember = { priority: 0, ...member };
  return { cluster: { name: 'cameras', kind: 'stream', members: [full] }, member: full };
}

/** Servers that accept connections and never answer (a wedged stream server), on both a TCP and an HTTP port. */
async function hungServers(): Promise<{ tcpPort: number; httpUrl: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const tcp = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  const http = createHttpServer(() => undefined);
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    tcpPort: (tcp.address() as AddressInfo).port,
    httpUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}/stat`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      http.closeAllConnections();
      await Promise.all([
        new Promise<void>((resolve) => {
          tcp.close(() => {
            resolve();
          });
        }),
        new Promise<void>((resolve) => {
          http.close(() => {
            resolve();
          });
        }),
      ]);
    },
  };
}

describe('createStreamCollector', () => {
  let nginx: TestNginxRtmp;
  before(async () => {
    nginx = await startNginxRtmp();
  });
  after(async () => {
    await nginx.stop();
  });

  test('a member without a healthUrl gets the handshake and member_up samples only, role defaulting to unknown', async () => {
    const { cluster, member } = clusterOf({ name: 'ingest-a', address: nginx.address, host: nginx.host, port: nginx.rtmpPort });
    assert.deepEqual(await createStreamCollector()(cluster, member, AbortSignal.timeout(5000)), [
      { metric: 'remediator_rtmp_handshake_success', labels: { cluster: 'cameras', instance: 'ingest-a' }, value: 1 },
      {
        metric: 'remediator_member_up',
        labels: { cluster: 'cameras', instance: 'ingest-a', role: 'unknown', service: 'stream' },
        value: 1,
      },
    ]);
  });

  test('a stats endpoint that does not answer drops the stream samples but leaves a working ingest up', async () => {
    const port = await freePort();
    const { cluster, member } = clusterOf({
      name: 'ingest-a',
      address: nginx.address,
      host: nginx.host,
      port: nginx.rtmpPort,
      healthUrl: `http://127.0.0.1:${port}/stat`,
      role: 'primary',
    });
    const samples = await createStreamCollector()(cluster, member, AbortSignal.timeout(5000));
    assert.deepEqual(
      samples.map((sample) => [sample.metric, sample.value]),
      [
        ['remediator_rtmp_handshake_success', 1],
        ['remediator_member_up', 1],
      ],
    );
  });

  test('a healthUrl that is neither nginx-rtmp /stat nor MediaMTX /v3/ rejects naming the member, without the password', async () => {
    const { cluster, member } = clusterOf({
      name: 'ingest-a',
      address: nginx.address,
      host: nginx.host,
      port: nginx.rtmpPort,
      healthUrl: 'http://admin:pw@127.0.0.1:8080/healthz',
    });
    await assert.rejects(createStreamCollector()(cluster, member, AbortSignal.timeout(5000)), (error: Error) => {
      assert.match(
        error.message,
        /^stream member ingest-a of cluster cameras: cannot tell the stream server from healthUrl http:\/\/127\.0\.0\.1:8080\/healthz: /,
      );
      assert.doesNotMatch(error.message, /pw@/);
      return true;
    });
  });

  test('against a wedged server (ingest and stats accept but never answer) the collector settles when its signal times out, member down', async () => {
    const hung = await hungServers();
    try {
      const { cluster, member } = clusterOf({
        name: 'ingest-a',
        address: `127.0.0.1:${hung.tcpPort}`,
        host: '127.0.0.1',
        port: hung.tcpPort,
        healthUrl: hung.httpUrl,
      });
      const started = Date.now();
      const samples = await createStreamCollector()(cluster, member, AbortSignal.timeout(300));
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 1500, `took ${elapsed} ms`);
      assert.deepEqual(
        samples.map((sample) => [sample.metric, sample.value]),
        [
          ['remediator_rtmp_handshake_success', 0],
          ['remediator_member_up', 0],
        ],
      );
    } finally {
      await hung.close();
    }
  });
});
