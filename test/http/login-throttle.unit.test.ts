import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLoginThrottle, defaultLoginThrottle, type LoginThrottleOptions } from '../../src/http/login-throttle.js';

/** A throttle on a clock the test moves by hand. */
function throttleAt(options: Partial<Omit<LoginThrottleOptions, 'now'>> = {}) {
  const clock = { ms: 1_000_000 };
  const throttle = createLoginThrottle({ ...defaultLoginThrottle, ...options, now: () => clock.ms });
  return { throttle, clock };
}

describe('the backoff of failed admin logins', () => {
  test('a client fails five times freely, then waits 1 s, 2 s, 4 s … doubling at each failure up to the cap', () => {
    const { throttle, clock } = throttleAt({ maxDelayMs: 60_000 });
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 14; attempt++) {
      assert.equal(throttle.waitFor('10.0.0.1'), 0, `attempt ${attempt} is checked once the previous wait is over`);
      const { failures, blockedMs } = throttle.failed('10.0.0.1');
      assert.equal(failures, attempt);
      waits.push(blockedMs);
      clock.ms += blockedMs;
    }
    assert.deepEqual(waits, [0, 0, 0, 0, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
  });

  test('while a client waits, waitFor says how long is left and other clients are not affected', () => {
    const { throttle, clock } = throttleAt();
    for (let attempt = 0; attempt < 6; attempt++) throttle.failed('10.0.0.1');
    assert.equal(throttle.waitFor('10.0.0.1'), 2000);
    clock.ms += 1500;
    assert.equal(throttle.waitFor('10.0.0.1'), 500);
    assert.equal(throttle.waitFor('10.0.0.2'), 0);
    clock.ms += 500;
    assert.equal(throttle.waitFor('10.0.0.1'), 0);
  });

  test('a success resets the client: its next failure is its first again', () => {
    const { throttle, clock } = throttleAt();
    for (let attempt = 0; attempt < 5; attempt++) throttle.failed('10.0.0.1');
    clock.ms += 1000;
    throttle.succeeded('10.0.0.1');
    assert.deepEqual(throttle.failed('10.0.0.1'), { failures: 1, blockedMs: 0 });
  });

  test('failures are forgotten after a quiet window, not before', () => {
    const { throttle, clock } = throttleAt({ windowMs: 60_000 });
    for (let attempt = 0; attempt < 4; attempt++) throttle.failed('10.0.0.1');
    clock.ms += 60_000;
    assert.deepEqual(throttle.failed('10.0.0.1'), { failures: 5, blockedMs: 1000 }, 'at the edge of the window the failures still count');
    clock.ms += 60_001;
    assert.equal(throttle.waitFor('10.0.0.1'), 0);
    assert.deepEqual(throttle.failed('10.0.0.1'), { failures: 1, blockedMs: 0 });
  });

  test('the clients remembered are bounded: a flood of addresses evicts the least recently failing first', () => {
    const { throttle } = throttleAt({ maxClients: 3, freeAttempts: 1 });
    for (const client of ['a', 'b', 'c']) throttle.failed(client);
    throttle.failed('a');
    for (const client of ['d', 'e']) throttle.failed(client);
    assert.equal(throttle.size, 3);
    assert.ok(throttle.waitFor('a') > 0, 'a failed most recently before d and e: still remembered');
    assert.equal(throttle.waitFor('b'), 0, 'b was the oldest: forgotten');
    assert.equal(throttle.waitFor('c'), 0);
  });
});
