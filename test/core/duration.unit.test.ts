import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { durationSchema, parseDuration } from '../../src/core/duration.js';

describe('parseDuration', () => {
  test('parses every unit into milliseconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('0s'), 0);
  });

  test('surrounding whitespace is ignored', () => {
    assert.equal(parseDuration(' 30s\n'), 30_000);
  });

  test('text that is not a duration gives undefined', () => {
    for (const text of ['5 minutes', '', '30', 's', '-5s', '1w', '1h30m', '1.s', '.5s', '30S']) {
      assert.equal(parseDuration(text), undefined, JSON.stringify(text));
    }
  });
});

describe('durationSchema', () => {
  test('accepts duration strings and whole non-negative numbers of milliseconds', () => {
    assert.equal(durationSchema.parse('30s'), 30_000);
    assert.equal(durationSchema.parse('1.5h'), 5_400_000);
    assert.equal(durationSchema.parse(2500), 2500);
    assert.equal(durationSchema.parse(0), 0);
  });

  test('"5 minutes" is rejected with a message saying how to write a duration', () => {
    const result = durationSchema.safeParse('5 minutes');
    assert.ok(!result.success);
    assert.equal(result.error.issues.length, 1);
    assert.equal(result.error.issues[0]?.message, '"5 minutes" is not a duration (use e.g. 500ms, 30s, 2m, 1h)');
  });

  test('an empty string is rejected with the same kind of message', () => {
    const result = durationSchema.safeParse('');
    assert.ok(!result.success);
    assert.match(z.prettifyError(result.error), /"" is not a duration/);
  });

  test('inside an object the message carries the field path', () => {
    const result = z.object({ timeout: durationSchema }).safeParse({ timeout: 'soon' });
    assert.ok(!result.success);
    assert.deepEqual(
      result.error.issues.map((issue) => [issue.path, issue.message]),
      [[['timeout'], '"soon" is not a duration (use e.g. 500ms, 30s, 2m, 1h)']],
    );
  });

  test('negative and fractional numbers are rejected', () => {
    assert.equal(durationSchema.safeParse(-1).success, false);
    assert.equal(durationSchema.safeParse(1.5).success, false);
    assert.equal(durationSchema.safeParse(null).success, false);
  });
});
