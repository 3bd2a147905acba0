import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matchesLabels, parseLabelMatchers, type LabelMatcher } from '../../src/core/label-matcher.js';

/** Parses `text`, failing the test with the parser's errors when it does not parse. */
function matchersOf(text: string): LabelMatcher[] {
  const result = parseLabelMatchers(text);
  if (!result.success) assert.fail(`${text} did not parse: ${result.errors.join('; ')}`);
  return result.matchers;
}

/** The errors for `text`, failing the test when it parses. */
function errorsOf(text: string): string[] {
  const result = parseLabelMatchers(text);
  if (result.success) assert.fail(`${text} parsed, expected an error`);
  return result.errors;
}

const matches = (text: string, labels: Record<string, string>) => matchesLabels(matchersOf(text), labels);

describe('parseLabelMatchers and matchesLabels', () => {
  test('an equality matcher matches only the exact value', () => {
    assert.equal(matches('{role="primary"}', { role: 'primary' }), true);
    assert.equal(matches('{role="primary"}', { role: 'primary2' }), false);
    assert.equal(matches('{role="primary"}', { role: 'Primary' }), false);
  });

  test('a not-equal matcher matches every other value and an absent label', () => {
    assert.equal(matches('{role!="primary"}', { role: 'replica' }), true);
    assert.equal(matches('{role!="primary"}', {}), true);
    assert.equal(matches('{role!="primary"}', { role: 'primary' }), false);
  });

  test('an anchored regex does not match a longer value', () => {
    assert.equal(matches('{role=~"prim"}', { role: 'primary' }), false);
    assert.equal(matches('{role=~"mary"}', { role: 'primary' }), false);
    assert.equal(matches('{role=~"prim"}', { role: 'prim' }), true);
  });

  test('a regex alternation is anchored as a whole, not only its first and last branch', () => {
    assert.equal(matches('{role=~"primary|main"}', { role: 'main' }), true);
    assert.equal(matches('{role=~"primary|main"}', { role: 'primary-old' }), false);
    assert.equal(matches('{role=~"primary|main"}', { role: 'old-main' }), false);
  });

  test('a negative regex rejects values the regex matches and accepts the rest', () => {
    assert.equal(matches('{env!~"prod.*"}', { env: 'production' }), false);
    assert.equal(matches('{env!~"prod.*"}', { env: 'staging' }), true);
    assert.equal(matches('{env!~"prod"}', { env: 'production' }), true, 'the negative regex is anchored too');
  });

  test('an absent label counts as the empty string', () => {
    assert.equal(matches('{team=""}', {}), true);
    assert.equal(matches('{team=~".*"}', {}), true);
    assert.equal(matches('{team=~".+"}', {}), false);
    assert.equal(matches('{team!~""}', {}), false);
  });

  test('a not-empty matcher requires the label to be present', () => {
    assert.equal(matches('{team!=""}', {}), false);
    assert.equal(matches('{team!=""}', { team: '' }), false);
    assert.equal(matches('{team!=""}', { team: 'db' }), true);
  });

  test('a label inherited from Object.prototype does not count as present', () => {
    assert.equal(matches('{constructor!=""}', {}), false);
    assert.equal(matches('{toString=""}', {}), true);
  });

  test('every matcher must hold', () => {
    const text = '{alertname="InstanceDown", service="stream", role="primary"}';
    assert.equal(matches(text, { alertname: 'InstanceDown', service: 'stream', role: 'primary', instance: 'a' }), true);
    assert.equal(matches(text, { alertname: 'InstanceDown', service: 'stream', role: 'replica' }), false);
    assert.equal(matches(text, { alertname: 'InstanceDown', role: 'primary' }), false);
  });

  test('the metric-name form InstanceDown{…} stands for alertname', () => {
    assert.deepEqual(matchersOf('InstanceDown{role="primary"}'), [
      { name: 'alertname', op: '=', value: 'InstanceDown' },
      { name: 'role', op: '=', value: 'primary' },
    ]);
    assert.equal(matches('InstanceDown{role="primary"}', { alertname: 'InstanceDown', role: 'primary' }), true);
    assert.equal(matches('InstanceDown{role="primary"}', { alertname: 'DiskFull', role: 'primary' }), false);
    assert.equal(matches('InstanceDown', { alertname: 'InstanceDown' }), true);
  });

  test('a quoted metric name inside the braces stands for alertname instead of being dropped', () => {
    const text = '{"InstanceDown", role="primary"}';
    assert.equal(matches(text, { alertname: 'InstanceDown', role: 'primary' }), true);
    assert.equal(matches(text, { alertname: 'DiskFull', role: 'primary' }), false);
  });

  test('a quoted label name may contain characters a plain name cannot', () => {
    assert.deepEqual(matchersOf('{"utf.8"="x"}'), [{ name: 'utf.8', op: '=', value: 'x' }]);
    assert.equal(matches('{"utf.8"="x"}', { 'utf.8': 'x' }), true);
    assert.equal(matches('{"utf.8"="x"}', { utf8: 'x' }), false);
  });

  test('escapes in double-quoted values are decoded', () => {
    assert.equal(matchersOf('{a="x\\ny"}')[0]?.value, 'x\ny');
    assert.equal(matchersOf('{a="say \\"hi\\""}')[0]?.value, 'say "hi"');
    assert.equal(matchersOf('{a="back\\\\slash"}')[0]?.value, 'back\\slash');
  });

  test('single-quoted values decode escapes and backtick values are raw', () => {
    assert.equal(matchersOf("{a='it\\'s'}")[0]?.value, "it's");
    assert.equal(matchersOf("{a='x\\ty'}")[0]?.value, 'x\ty');
    assert.equal(matchersOf('{a=`x\\ny`}')[0]?.value, 'x\\ny');
  });

  test('a backtick regex keeps its backslashes, so \\d means a digit', () => {
    assert.equal(matches('{port=~`\\d+`}', { port: '9090' }), true);
    assert.equal(matches('{port=~`\\d+`}', { port: 'd' }), false);
  });

  test('a (?i) prefix makes the regex case-insensitive and still anchored', () => {
    assert.equal(matches('{role=~"(?i)PRIMARY"}', { role: 'primary' }), true);
    assert.equal(matches('{role=~"(?i)prim"}', { role: 'Primary' }), false);
    assert.equal(matches('{role=~"PRIMARY"}', { role: 'primary' }), false, 'without (?i) case matters');
  });

  test('an invalid regex is an error naming the regex', () => {
    const errors = errorsOf('{role=~"prim(ary"}');
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /invalid regex "prim\(ary"/);
  });

  test('a bad escape in a value is an error', () => {
    assert.match(errorsOf('{a="\\q"}').join('\n'), /unknown escape \\q/);
  });

  test('a syntax error is reported, not thrown', () => {
    assert.ok(errorsOf('{a=').length > 0);
    assert.ok(errorsOf('{a="b"').length > 0);
    assert.ok(errorsOf('{a=="b"}').length > 0);
  });

  test('an expression that is not a plain selector is rejected with what was found', () => {
    assert.match(errorsOf('up == 1').join('\n'), /expected label matchers.*BinaryExpr/);
    assert.match(errorsOf('sum(up)').join('\n'), /expected label matchers/);
    assert.match(errorsOf('{a="b"} or {c="d"}').join('\n'), /expected label matchers/);
  });

  test('empty braces and an empty text are rejected', () => {
    assert.deepEqual(errorsOf('{}'), ['at least one matcher is required']);
    assert.ok(errorsOf('').length > 0);
    assert.ok(errorsOf('   ').length > 0);
  });

  test('several bad matchers are all reported', () => {
    const errors = errorsOf('{a=~"(", b="\\q"}');
    assert.equal(errors.length, 2);
  });
});

describe('RE2 parity of matcher regexes', () => {
  test('lookarounds and backreferences, which Alertmanager rejects, are load errors naming the construct', () => {
    for (const [regex, construct] of [
      ['(?!db).*', '(?!'],
      ['a(?=b)', '(?='],
      ['(?<=x)y', '(?<='],
      ['(?<!x)y', '(?<!'],
      ['(a)\\\\1', 'backreference'],
      ['(?<n>a)\\\\k<n>', 'named backreference'],
    ] as const) {
      const errors = errorsOf(`{instance=~"${regex}"}`);
      assert.equal(errors.length, 1, errors.join('; '));
      assert.match(errors[0] ?? '', /not supported by RE2/);
      assert.ok(errors[0]?.includes(construct), `${errors[0] ?? ''} names ${construct}`);
    }
  });

  test('escaped parentheses and an escaped backslash before a digit are still accepted', () => {
    assert.equal(matches('{a=~"\\\\(\\\\?!x\\\\)"}', { a: '(?!x)' }), true);
    assert.equal(matches('{a=~"x\\\\\\\\1"}', { a: 'x\\1' }), true);
  });

  test('a syntax error is reported once, not once per recovery node', () => {
    assert.equal(errorsOf('{a=').length, 1);
  });
});
