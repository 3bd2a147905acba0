import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expandSeriesValues, parseSeriesSelector } from '../../tools/simulate/series-notation.js';

describe("promtool's series notation", () => {
  test('values expand as promtool expands them: a+bxn is n+1 values, _ and _xn are gaps, stale ends a run of values', () => {
    assert.deepEqual(expandSeriesValues('1 1 0x5 stale'), { success: true, value: [1, 1, 0, 0, 0, 0, 0, 0, undefined] });
    assert.deepEqual(expandSeriesValues('1+2x3 _x2 5-1x2 _ -1.5 Inf -Inf'), {
      success: true,
      value: [1, 3, 5, 7, undefined, undefined, 5, 4, 3, undefined, -1.5, Infinity, -Infinity],
    });
    const nan = expandSeriesValues('NaN');
    assert.ok(nan.success && Number.isNaN(nan.value[0]));
  });

  test('a token that is not a value, an empty list and a runaway expansion are refused with the token named', () => {
    assert.deepEqual(expandSeriesValues('1 up 2'), { success: false, error: '"up" is not a value (1, 1+2x3, 0x5, _, _x2 or stale)' });
    assert.equal(expandSeriesValues('  ').success, false);
    assert.match((expandSeriesValues('1x100000000') as { error: string }).error, /expands to more than 100000 samples/);
  });

  test('a series is a metric name and labels; a matcher other than = or a missing name is refused', () => {
    assert.deepEqual(parseSeriesSelector('remediator_member_up{cluster="cache", role="replica"}'), {
      success: true,
      value: { name: 'remediator_member_up', labels: { cluster: 'cache', role: 'replica' } },
    });
    assert.deepEqual(parseSeriesSelector('up'), { success: true, value: { name: 'up', labels: {} } });
    assert.match((parseSeriesSelector('up{job=~"a.*"}') as { error: string }).error, /not matchers like =~/);
    assert.match((parseSeriesSelector('{job="a"}') as { error: string }).error, /does not start with a metric name/);
    assert.match((parseSeriesSelector('up job') as { error: string }).error, /labels go in braces/);
  });
});
