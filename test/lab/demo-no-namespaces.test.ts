import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../../tools/harness/repo-root.js';

const run = promisify(execFile);

describe('remediator demo where network namespaces cannot be made', () => {
  test('a scenario that cuts links says it needs CAP_NET_ADMIN and exits 2, starting nothing', async () => {
    // The same demo as an unprivileged user (nobody, every capability dropped).
    const demo = run(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        '--inh-caps=-all',
        'env',
        'HOME=/tmp',
        process.execPath,
        '--import',
        'tsx',
        join(repoRoot, 'src', 'main.ts'),
        'demo',
        '--once',
        '--scenario',
        'partition-remediator',
      ],
      { cwd: repoRoot, timeout: 60_000 },
    );
    const failure = (await demo.then(
      () => assert.fail('the demo succeeded without namespaces'),
      (error: unknown) => error,
    )) as { code: number; stderr: string };
    assert.equal(failure.code, 2, failure.stderr);
    assert.match(
      failure.stderr,
      /the partition-remediator scenario cuts network links and needs network namespaces: .*\(no-cap-net-admin\)/,
    );
  });
});
