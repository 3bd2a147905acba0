import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '../../tools/harness/wait.js';

describe('waitFor', () => {
  test('returns the first truthy value of the check, counting a check that throws as not yet', async () => {
    let calls = 0;
    const value = await waitFor(
      'the third call',
      () => {
        calls++;
        if (calls === 1) throw new Error('not listening yet');
        return calls === 3 ? { calls } : undefined;
      },
      10_000,
      1,
    );
    assert.deepEqual(value, { calls: 3 });
  });

  test('times out naming what it waited for and the last error of the check', async () => {
    await assert.rejects(
      waitFor(
        'the impossible',
        () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 50, intervalMs: 10 },
      ),
      /timed out after 50 ms waiting for the impossible: connection refused/,
    );
  });

  test('ends at once with the error `failure` returns', async () => {
    let checks = 0;
    await assert.rejects(
      waitFor(
        'the stream',
        () => {
          checks++;
          return false;
        },
        { timeoutMs: 60_000, intervalMs: 1, failure: () => (checks >= 2 ? new Error('nginx exited') : undefined) },
      ),
      /^Error: nginx exited$/,
    );
    assert.equal(checks, 2);
  });
});
