import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maskStrings } from '../../src/util/mask-strings.js';

describe('maskStrings', () => {
  test('every occurrence of each secret in nested strings is replaced, and everything else is kept as it was', () => {
    const value = { to: 'a@example.com', text: 'yes: S1\nno: S2, again S1', list: ['S2', 3, null, true], nested: { deep: ['xS1x'] } };
    assert.deepEqual(maskStrings(value, ['S1', 'S2'], '[x]'), {
      to: 'a@example.com',
      text: 'yes: [x]\nno: [x], again [x]',
      list: ['[x]', 3, null, true],
      nested: { deep: ['x[x]x'] },
    });
  });

  test('an empty secret masks nothing', () => {
    assert.equal(maskStrings('abc', [''], '[x]'), 'abc');
  });
});
