import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runRemediator } from '../helpers/remediator-process.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('remediator slo generate', () => {
  test('the CLI: `slo generate --check` passes on the checkout and exits 1 on a stale file', async () => {
    const current = runRemediator(['slo', 'generate', '--check'], {});
    assert.equal((await current.exited).code, 0, current.output());
    assert.match(current.output(), /rules\/slo\.rules\.yml is up to date \(8 SLOs, \d+ rules\)/);

    const dir = await tempDir('remediator-slo-cli-');
    try {
      await writeFile(join(dir.path, 'slo.rules.yml'), '# an old version\ngroups: []\n');
      const stale = runRemediator(['slo', 'generate', '--check', '--out', join(dir.path, 'slo.rules.yml')], {});
      assert.equal((await stale.exited).code, 1);
      assert.match(stale.output(), /slo\.rules\.yml is stale: it is not what rules\/slos\.yaml generates/);
    } finally {
      await dir.remove();
    }
  });
});
