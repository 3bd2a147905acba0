import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { describe, test } from 'node:test';
import { isConnectionRefused } from '../../../src/actions/confirm/refused.js';

/** The error of a real connection to a loopback port nobody listens on (one just freed). */
async function refusedError(): Promise<Error> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return new Promise((resolve) => {
    connect(port, '127.0.0.1').on('error', resolve);
  });
}

describe('telling a refused connection (nothing listens) from other failures', () => {
  test('a connection to a closed port is refused, however a driver wraps the error', async () => {
    const error = await refusedError();
    assert.equal(isConnectionRefused(error), true);
    assert.equal(isConnectionRefused(new Error('connect failed', { cause: error })), true);
    assert.equal(isConnectionRefused(new AggregateError([error, error])), true);
  });

  test('a timeout, a reset, an attempt of several that timed out, or no error at all is not refused', async () => {
    const refused = await refusedError();
    const timeout = Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' });
    assert.equal(isConnectionRefused(timeout), false);
    assert.equal(isConnectionRefused(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), false);
    assert.equal(isConnectionRefused(new AggregateError([refused, timeout])), false);
    assert.equal(isConnectionRefused(undefined), false);
    assert.equal(isConnectionRefused('ECONNREFUSED'), false);
  });
});
