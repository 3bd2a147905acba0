import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { firstJsonErrorOffset, readJsonSource } from '../../src/sources/index.js';

describe('readJsonSource', () => {
  test('gives the data and where each value is written', () => {
    const read = readJsonSource('d.json', '{\n  "panels": [\n    { "expr": "up == 1" }\n  ]\n}\n');
    if (!read.success) assert.fail(JSON.stringify(read.problems));
    assert.deepEqual(read.document.value, { panels: [{ expr: 'up == 1' }] });
    assert.deepEqual(read.document.position(['panels', 0, 'expr']), { line: 3, column: 15 });
    assert.deepEqual(read.document.positionIn(['panels', 0, 'expr'], 3), { line: 3, column: 19 });
  });

  test('a duplicate key keeps the last value, as JSON.parse does', () => {
    const read = readJsonSource('d.json', '{ "a": 1, "a": 2 }');
    if (!read.success) assert.fail(JSON.stringify(read.problems));
    assert.deepEqual(read.document.value, { a: 2 });
  });

  test('invalid JSON is one JSON problem at the line where it stops being JSON, without a copy of the input', () => {
    assert.deepEqual(readJsonSource('d.json', '{\n  "panels": [,]\n}\n'), {
      success: false,
      problems: [{ file: 'd.json', line: 2, message: "JSON: Unexpected token ','" }],
    });
    const read = readJsonSource('d.json', '{\n  "a": 1\n');
    assert.equal(read.success, false);
    const [problem] = read.problems;
    assert.ok(problem);
    assert.equal(problem.line, 3);
    assert.match(problem.message, /^JSON: /);
    assert.doesNotMatch(problem.message, /position|"a"/);
  });
});

describe('firstJsonErrorOffset', () => {
  test('is undefined for JSON, and the offset of the first character that is not JSON otherwise', () => {
    for (const text of ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\"y"]} ', '"s"', '0'])
      assert.equal(firstJsonErrorOffset(text), undefined, text);
    const broken: [string, number][] = [
      ['[1,,2]', 3],
      ['{"a" 1}', 5],
      ['{a: 1}', 1],
      ['[01]', 2],
      ['{} x', 3],
      ['"a\nb"', 2],
    ];
    for (const [text, offset] of broken) assert.equal(firstJsonErrorOffset(text), offset, text);
  });
});
