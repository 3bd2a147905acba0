import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isRunning } from '../../src/util/process-status.js';
import { startProcess } from '../../tools/harness/process.js';
import { repoRoot } from '../../tools/harness/repo-root.js';
import { tempDir } from '../../tools/harness/temp-dir.js';
import { waitFor } from '../../tools/harness/wait.js';

/** The pid a shell printed on its first line. */
const printedPid = (output: string) => Number(output.split('\n')[0]);

describe('startProcess, the harness spawner', () => {
  test('keeps stdout and stderr of the child in memory and reports how it exited', async () => {
    const child = startProcess('sh', ['-c', 'echo out; echo err >&2; exit 3'], { name: 'shell' });
    const exit = await child.exited;
    assert.deepEqual(exit, { code: 3, signal: null });
    assert.equal(child.running(), false);
    assert.match(child.output(), /out/);
    assert.match(child.output(), /err/);
    assert.equal(child.name, 'shell');
  });

  test('with a log file, the output goes to the file and is still read back for messages', async (t) => {
    const dir = await tempDir();
    t.after(() => dir.remove());
    const logFile = join(dir.path, 'child.log');
    const child = startProcess('sh', ['-c', 'for i in 1 2 3; do echo line $i; done'], { logFile });
    await child.exited;
    assert.equal(await readFile(logFile, 'utf8'), 'line 1\nline 2\nline 3\n');
    assert.equal(child.tail(2), 'line 2\nline 3');
  });

  test('stop ends the whole process group, the children the process started included', async () => {
    // The shell starts a grandchild and waits for it; it ignores nothing, but the grandchild would outlive it alone.
    const child = startProcess('sh', ['-c', 'sleep 60 & echo $!; wait']);
    const grandchild = await waitFor('the grandchild pid', () => printedPid(child.output()), 10_000);
    assert.equal(await isRunning(grandchild), true);
    await child.stop();
    await waitFor('the grandchild to be gone', async () => !(await isRunning(grandchild)), 10_000);
    await child.stop(); // stopping twice is harmless
  });

  test('a process that ignores SIGTERM is killed once the grace period is over', async () => {
    const child = startProcess('sh', ['-c', "trap '' TERM; echo ready; while true; do sleep 0.1; done"]);
    await waitFor('the trap to be set', () => child.output().includes('ready'), 10_000);
    await child.stop(200);
    assert.equal((await child.exited).signal, 'SIGKILL');
  });

  test('kill is a crash: SIGKILL at once', async () => {
    const child = startProcess('sleep', ['60']);
    await child.kill();
    assert.equal((await child.exited).signal, 'SIGKILL');
  });

  test('a program that does not exist exits with its error in the output instead of throwing', async () => {
    const child = startProcess('/nonexistent/remediator-harness-test', []);
    assert.deepEqual(await child.exited, { code: null, signal: null });
    assert.match(child.output(), /ENOENT/);
  });

  test('children still running when their owner exits without stopping them are killed (a failed bench, Ctrl-C)', async () => {
    const script = [
      `import { startProcess } from ${JSON.stringify(join(repoRoot, 'tools', 'harness', 'process.ts'))};`,
      "const child = startProcess('sleep', ['60']);",
      'console.log(child.pid);',
      'process.exit(0);',
    ].join('\n');
    const owner = startProcess(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot });
    const exit = await owner.exited;
    assert.equal(exit.code, 0, owner.output());
    const orphan = printedPid(owner.output());
    assert.ok(orphan > 0, owner.output());
    await waitFor('the orphaned child to be gone', async () => !(await isRunning(orphan)), 10_000);
  });
});
