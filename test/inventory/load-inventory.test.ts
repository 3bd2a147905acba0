import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runRemediator } from '../helpers/remediator-process.js';
import { writePlaybooks } from '../helpers/service.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('the inventory', () => {
  test('serve refuses to start on a bad inventory and lists its problems with the playbook problems', async () => {
    const dir = await writePlaybooks({
      'p.yaml': `name: p\nmatch: '{alertname="X"}'\nsteps: [{ name: s, action: redis.failover, with: { cluster: nosuch } }]\n`,
      'inventory.yaml':
        'clusters:\n  cache:\n    kind: redis\n    credentials: { password: inline }\n    members: [{ name: a, address: 127.0.0.1:6379 }]\n',
    });
    const secretFile = await tempDir();
    try {
      await writeFile(join(secretFile.path, 'unused'), 'x');
      const run = runRemediator(['serve'], { REMEDIATIONS_DIR: dir.dir, REDIS_URL: 'redis://127.0.0.1:1' });
      assert.equal((await run.exited).code, 1);
      assert.match(run.output(), /inventory\.yaml:4: clusters\.cache\.credentials\.password: passwords are never written in the inventory/);
      assert.match(run.output(), /p\.yaml:3: steps\[0\]\.with\.cluster: no cluster "nosuch" in the inventory/);
    } finally {
      await dir.remove();
      await secretFile.remove();
    }
  });
});
