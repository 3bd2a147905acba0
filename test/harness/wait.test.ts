import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startProcess } from '../../tools/harness/process.js';
import { waitFor } from '../../tools/harness/wait.js';

describe('waitFor', () => {
  test('ends at once with the output of a process it depends on when that process exits', async () => {
    const child = startProcess('sh', ['-c', 'echo the reason it failed; exit 1'], { name: 'failing-server' });
    await assert.rejects(
      waitFor('the server to answer', () => false, { timeoutMs: 60_000, processes: [child] }),
      (error: Error) =>
        error.message.includes('failing-server exited while waiting for the server to answer') &&
        error.message.includes('the reason it failed'),
    );
  });
});
