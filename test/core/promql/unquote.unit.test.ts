import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePromql } from '../../../src/core/promql/parse-promql.js';
import { escapePromqlString, unquotePromqlString } from '../../../src/core/promql/unquote.js';

describe('unquotePromqlString', () => {
  test('decodes double- and single-quoted strings with simple escapes', () => {
    assert.equal(unquotePromqlString('"a\\nb\\tc\\\\d\\"e"'), 'a\nb\tc\\d"e');
    assert.equal(unquotePromqlString("'it\\'s'"), "it's");
    assert.equal(unquotePromqlString('"\\a\\b\\f\\r\\v"'), '\x07\b\f\r\v');
    assert.equal(unquotePromqlString('""'), '');
  });

  test('a backtick string is raw: backslashes stay', () => {
    assert.equal(unquotePromqlString('`a\\nb\\d+`'), 'a\\nb\\d+');
  });

  test('decodes hex, unicode and octal escapes', () => {
    assert.equal(unquotePromqlString('"\\x41"'), 'A');
    assert.equal(unquotePromqlString('"caf\\u00e9"'), 'café');
    assert.equal(unquotePromqlString('"\\U0001F600"'), '😀');
    assert.equal(unquotePromqlString('"\\101\\102"'), 'AB');
    assert.equal(unquotePromqlString("'\\x41\\u00e9\\101'"), 'AéA');
  });

  test('a malformed escape throws', () => {
    assert.throws(() => unquotePromqlString('"\\q"'), /unknown escape \\q/);
    assert.throws(() => unquotePromqlString('"\\x4"'), /bad escape/);
    assert.throws(() => unquotePromqlString('"\\xZZ"'), /bad escape/);
    assert.throws(() => unquotePromqlString('"\\u12"'), /bad escape/);
    assert.throws(() => unquotePromqlString('"\\18"'), /unknown escape/);
    assert.throws(() => unquotePromqlString('"\\"'), /unterminated|escape/);
  });

  test('an unterminated or mismatched literal throws', () => {
    assert.throws(() => unquotePromqlString('"abc'), /unterminated/);
    assert.throws(() => unquotePromqlString('"abc\''), /unterminated/);
    assert.throws(() => unquotePromqlString('"'), /unterminated/);
  });
});

describe('escapePromqlString', () => {
  const hostile = [
    'plain',
    'say "hi"',
    'back\\slash',
    'trailing\\',
    'line\nbreak\r\n',
    'tab\there',
    "o'brien",
    '"} or vector(1) or up{a="',
    '\\"',
    'nul\u0000byte',
    'unicode é 😀',
    '$(touch /tmp/x); rm -rf /',
  ];

  test('an escaped value inside double quotes decodes back to itself', () => {
    for (const value of hostile) assert.equal(unquotePromqlString(`"${escapePromqlString(value)}"`), value, JSON.stringify(value));
  });

  test('an escaped value cannot close the string: the selector keeps exactly one matcher', () => {
    for (const value of hostile) {
      const query = `up{instance="${escapePromqlString(value)}"}`;
      const { tree, errors } = parsePromql(query);
      assert.deepEqual(errors, [], query);
      const selector = tree.topNode.firstChild;
      assert.equal(selector?.name, 'VectorSelector', query);
      assert.equal(selector.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher').length, 1, query);
    }
  });

  test('an escaped value contains no raw line break', () => {
    assert.doesNotMatch(escapePromqlString('a\nb\rc'), /[\r\n]/);
  });

  test("a single quote is left as is, since Prometheus rejects \\' inside double quotes", () => {
    assert.equal(escapePromqlString("o'brien"), "o'brien");
  });
});
