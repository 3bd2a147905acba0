import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exporterMetrics } from '../../src/exporters/metric-catalogue.js';
import { freePort } from '../../src/util/free-port.js';
import { runRemediator } from '../helpers/remediator-process.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { parseMetrics, valueOf } from './metrics-text.js';

describe('remediator exporter', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let member: Server;
  let memberPort: number;

  before(async () => {
    dir = await tempDir('remediator-exporter-');
    member = createServer((socket) => socket.destroy());
    memberPort = await new Promise<number>((resolve) => {
      member.listen(0, '127.0.0.1', () => {
        resolve((member.address() as { port: number }).port);
      });
    });
  });
  after(async () => {
    await new Promise((resolve) => member.close(resolve));
    await dir.remove();
  });

  test('serves /metrics with every catalogue metric for the inventory given by INVENTORY_FILE, and stops cleanly on SIGTERM', async () => {
    const closedPort = await freePort();
    const inventoryFile = join(dir.path, 'inventory.yaml');
    await writeFile(
      inventoryFile,
      `clusters:\n  things:\n    kind: generic\n    members:\n      - { name: alive, address: 127.0.0.1:${memberPort}, role: primary }\n      - { name: gone, address: 127.0.0.1:${closedPort} }\n`,
    );
    const port = await freePort();
    // REMEDIATIONS_DIR has no playbooks: the exporter needs only the inventory.
    const running = runRemediator(['exporter', '--port', String(port)], {
      INVENTORY_FILE: inventoryFile,
      REMEDIATIONS_DIR: dir.path,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    });
    try {
      let exited = false;
      void running.exited.then(() => {
        exited = true;
      });
      await waitFor(
        `the exporter on ${port}`,
        async () => {
          if (exited) throw new Error(`the exporter exited early:\n${running.output()}`);
          return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
        },
        30_000,
        100,
      );
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await response.text();
      for (const [name, definition] of Object.entries(exporterMetrics)) {
        assert.ok(text.includes(`# HELP ${name} ${definition.help}`), `${name} is missing from:\n${text}`);
        assert.ok(text.includes(`# TYPE ${name} gauge`), `${name} is not a gauge`);
      }
      const samples = parseMetrics(text);
      assert.equal(
        valueOf(samples, 'remediator_member_up', { cluster: 'things', instance: 'alive', role: 'primary', service: 'generic' }),
        1,
      );
      assert.equal(
        valueOf(samples, 'remediator_member_up', { cluster: 'things', instance: 'gone', role: 'unknown', service: 'generic' }),
        0,
      );
      assert.equal((await fetch(`http://127.0.0.1:${port}/nothing`)).status, 404);
    } finally {
      await running.stop();
    }
    assert.deepEqual(await running.exited, { code: 0, signal: null }, running.output());
  });

  test('refuses to start, naming the problem, when INVENTORY_FILE does not exist', async () => {
    const running = runRemediator(['exporter', '--port', String(await freePort())], {
      INVENTORY_FILE: join(dir.path, 'missing.yaml'),
      REMEDIATIONS_DIR: dir.path,
    });
    const { code } = await running.exited;
    assert.equal(code, 1);
    assert.match(running.output(), /problem in the inventory; refusing to start/);
    assert.match(running.output(), /cannot read the inventory \(ENOENT\)/);
  });
});
