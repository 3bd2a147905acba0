import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { once } from 'node:events';
import { createConnection, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createExporter } from '../../src/exporters/create-exporter.js';
import { createNodeCollector } from '../../src/exporters/node-collector.js';
import type { Inventory } from '../../src/inventory/inventory.js';
import { parseInventorySource } from '../../src/inventory/load-inventory.js';
import { freePort } from '../../src/util/free-port.js';
import { waitFor } from '../../tools/harness/wait.js';
import { parseMetrics, series, valueOf } from './metrics-text.js';

const logger = pino({ level: 'silent' });

function inventoryOf(yaml: string): Inventory {
  const result = parseInventorySource('inventory.yaml', yaml, () => '');
  if (!result.success) assert.fail(JSON.stringify(result.problems));
  return result.inventory;
}

function listen(server: TcpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no port'));
      else resolve(address.port);
    });
  });
}

describe('the exporter on HTTP health URLs and TCP ports', () => {
  let http: HttpServer;
  let httpPort: number;
  let silent: TcpServer;
  let silentPort: number;
  let closedPort: number;
  const held: Socket[] = [];
  let accepted = 0;
  /** The remote port of every connection the silent server accepted, in order, and of the test's own markers. */
  const acceptedFrom: number[] = [];
  const markers = new Set<number>();

  /**
   * The connections the silent server has accepted so far, the test's markers aside. A probe that connected has
   * finished its handshake, so its connection waits in the server's accept queue; a marker connected after it is
   * accepted after it (the queue is first in, first out). Once the marker is seen, every earlier connection has been.
   */
  async function acceptedSoFar(): Promise<number> {
    const marker = createConnection(silentPort, '127.0.0.1');
    try {
      await once(marker, 'connect');
      const port = marker.localPort ?? 0;
      markers.add(port);
      await waitFor('the silent server to accept the marker connection', () => acceptedFrom.includes(port), 5000, 5);
      return acceptedFrom.filter((from) => !markers.has(from)).length;
    } finally {
      marker.destroy();
    }
  }

  before(async () => {
    http = createHttpServer((req, res) => {
      res.statusCode = req.url === '/broken' ? 500 : req.url === '/moved' ? 302 : 200;
      if (res.statusCode === 302) res.setHeader('location', '/ok');
      res.end('body');
    });
    httpPort = await listen(http);
    // Accepts connections and never answers: the member that hangs a probe.
    silent = createTcpServer((socket) => {
      accepted++;
      acceptedFrom.push(socket.remotePort ?? 0);
      held.push(socket);
    });
    silentPort = await listen(silent);
    closedPort = await freePort();
  });
  after(async () => {
    for (const socket of held) socket.destroy();
    http.closeAllConnections();
    await Promise.all([new Promise((resolve) => http.close(resolve)), new Promise((resolve) => silent.close(resolve))]);
  });

  test('a health URL answering 500 is down, 2xx is up, and a redirect is not the health URL answering', async () => {
    const registry = new Registry();
    const inventory = inventoryOf(`clusters:
  web:
    kind: http
    members:
      - { name: web-ok, address: 127.0.0.1:${httpPort}, healthUrl: 'http://127.0.0.1:${httpPort}/ok', role: primary }
      - { name: web-broken, address: 127.0.0.2:${httpPort}, healthUrl: 'http://127.0.0.1:${httpPort}/broken', role: backup }
      - { name: web-moved, address: 127.0.0.3:${httpPort}, healthUrl: 'http://127.0.0.1:${httpPort}/moved' }
`);
    createExporter({ inventory, registry, collectors: { http: createNodeCollector() }, probeTimeoutMs: 2000, logger });
    const samples = parseMetrics(await registry.metrics());
    assert.equal(valueOf(samples, 'remediator_member_up', { cluster: 'web', instance: 'web-ok', role: 'primary', service: 'http' }), 1);
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'web-broken', role: 'backup' }), 0);
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'web-moved', role: 'unknown' }), 0);
  });

  test('without a health URL a member is up when its port accepts a TCP connection and down when the port is closed', async () => {
    const registry = new Registry();
    const inventory = inventoryOf(`clusters:
  things:
    kind: generic
    members:
      - { name: open, address: 127.0.0.1:${httpPort} }
      - { name: closed, address: 127.0.0.1:${closedPort} }
`);
    createExporter({ inventory, registry, collectors: { generic: createNodeCollector() }, probeTimeoutMs: 2000, logger });
    const samples = parseMetrics(await registry.metrics());
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'open', service: 'generic' }), 1);
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'closed', service: 'generic' }), 0);
  });

  test('a member that accepts the connection but never answers is down once the probe timeout passes, without holding the scrape', async () => {
    const registry = new Registry();
    const inventory = inventoryOf(`clusters:
  web:
    kind: http
    members:
      - { name: hung, address: 127.0.0.1:${silentPort}, healthUrl: 'http://127.0.0.1:${silentPort}/health', role: primary }
      - { name: ok, address: 127.0.0.1:${httpPort}, healthUrl: 'http://127.0.0.1:${httpPort}/ok' }
`);
    createExporter({ inventory, registry, collectors: { http: createNodeCollector() }, probeTimeoutMs: 300, logger });
    const started = Date.now();
    const samples = parseMetrics(await registry.metrics());
    const elapsed = Date.now() - started;
    // The silent member would hold an unbounded probe forever; the bound is the point, not the speed.
    assert.ok(elapsed < 3000, `the scrape took ${elapsed} ms`);
    assert.ok(accepted > 0, 'the silent member was connected to');
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'hung', role: 'primary' }), 0);
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'ok' }), 1);
    assert.ok(valueOf(samples, 'remediator_member_probe_duration_seconds', { instance: 'hung' }) < 3);
  });

  test('one scrape probes each member once although every gauge is collected', async () => {
    const registry = new Registry();
    const inventory = inventoryOf(`clusters:
  things:
    kind: generic
    members:
      - { name: counted, address: 127.0.0.1:${silentPort} }
`);
    createExporter({ inventory, registry, collectors: { generic: createNodeCollector() }, probeTimeoutMs: 2000, logger });
    const before = await acceptedSoFar();
    const samples = parseMetrics(await registry.metrics());
    assert.equal(valueOf(samples, 'remediator_member_up', { instance: 'counted' }), 1);
    assert.equal((await acceptedSoFar()) - before, 1);
    await registry.metrics();
    assert.equal((await acceptedSoFar()) - before, 2, 'the next scrape probes again');
    assert.deepEqual(series(samples, 'remediator_replication_link_up'), []);
  });
});
