import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { atLine, formatPath, formatProblem, sortByLine, sortProblems, type SourceProblem } from '../../src/sources/index.js';

describe('formatProblem', () => {
  test('formats file:line: path: message', () => {
    assert.equal(
      formatProblem({ file: 'remediations/x.yaml', line: 12, path: 'steps[1].with.command[0]', message: 'bad' }),
      'remediations/x.yaml:12: steps[1].with.command[0]: bad',
    );
  });

  test('leaves out a missing line and an empty or absent path', () => {
    assert.equal(formatProblem({ file: 'x.yaml', path: '', message: 'empty file' }), 'x.yaml: empty file');
    assert.equal(formatProblem({ file: 'x.yaml', line: 3, path: '', message: 'bad YAML' }), 'x.yaml:3: bad YAML');
    assert.equal(formatProblem({ file: 'rules/a.yml', line: 7, message: 'alert A: no expr' }), 'rules/a.yml:7: alert A: no expr');
  });
});

describe('formatPath', () => {
  test('joins keys with dots and puts indexes in brackets', () => {
    assert.equal(formatPath(['steps', 0, 'with', 'command', 1]), 'steps[0].with.command[1]');
    assert.equal(formatPath(['clusters', 'cache', 'members', 2, 'address']), 'clusters.cache.members[2].address');
    assert.equal(formatPath([0, 'name']), '[0].name');
    assert.equal(formatPath([]), '');
  });
});

describe('atLine', () => {
  test('is the line property when the line is known, nothing otherwise', () => {
    assert.deepEqual(atLine(4), { line: 4 });
    assert.deepEqual(atLine(undefined), {});
  });
});

describe('sortByLine', () => {
  test('orders one file by line and keeps the order of problems found on one line', () => {
    const problems: SourceProblem[] = [
      { file: 'a.yaml', line: 6, path: 'b', message: 'second on 6' },
      { file: 'a.yaml', line: 2, path: 'z', message: 'on 2' },
      { file: 'a.yaml', line: 6, path: 'a', message: 'third on 6' },
      { file: 'a.yaml', message: 'no line' },
    ];
    assert.deepEqual(
      sortByLine(problems).map((problem) => problem.message),
      ['no line', 'on 2', 'second on 6', 'third on 6'],
    );
  });
});

describe('sortProblems', () => {
  test('orders by file, line and text, and reports each distinct problem once', () => {
    const sorted = sortProblems([
      { file: 'rules/b.yml', line: 1, message: 'alert B: x' },
      { file: 'rules/a.yml', line: 9, message: 'alert A: unknown metric "m"' },
      { file: 'rules/a.yml', line: 9, path: 'expr', message: 'a' },
      { file: 'rules/a.yml', line: 3, message: 'alert A: z' },
      { file: 'rules/a.yml', line: 9, message: 'alert A: unknown metric "m"' },
    ]);
    assert.deepEqual(sorted.map(formatProblem), [
      'rules/a.yml:3: alert A: z',
      'rules/a.yml:9: alert A: unknown metric "m"',
      'rules/a.yml:9: expr: a',
      'rules/b.yml:1: alert B: x',
    ]);
  });
});
