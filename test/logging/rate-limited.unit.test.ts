import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRateLimited } from '../../src/logging/rate-limited.js';

describe('createRateLimited', () => {
  test('lets one line through per interval and reports how many it held back', () => {
    let clock = 0;
    const logged: number[] = [];
    const limited = createRateLimited(10_000, () => clock);
    for (clock = 0; clock < 25_000; clock += 1000) limited((suppressed) => logged.push(suppressed));
    assert.deepEqual(logged, [0, 9, 9]);
  });

  test('keeps logging while errors never stop: an error every second still gives a line every 10 s', () => {
    let clock = 0;
    let lines = 0;
    const limited = createRateLimited(10_000, () => clock);
    for (clock = 0; clock <= 60_000; clock += 1000)
      limited(() => {
        lines++;
      });
    assert.equal(lines, 7);
  });
});
