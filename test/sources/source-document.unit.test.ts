import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readYamlDocuments, readYamlSource } from '../../src/sources/index.js';
import { documentOf } from './read-document.js';

const playbook = `name: x
steps:
  - name: a
    with: { query: 'up == 1', plain: up == 2, escaped: "a\\"b == 3" }
  - name: b
    query: |
      max(
        up) == 1
    folded: >
      up
      == 1
`;

describe('readYamlSource', () => {
  test('gives the document as data, and where each value starts by its path', () => {
    const document = documentOf(playbook);
    assert.equal(document.file, 'file.yaml');
    assert.deepEqual(
      (document.value as { steps: { name: string }[] }).steps.map((step) => step.name),
      ['a', 'b'],
    );
    assert.deepEqual(document.position(['name']), { line: 1, column: 7 });
    assert.deepEqual(document.position(['steps', 0, 'with', 'query']), { line: 4, column: 20 });
    assert.deepEqual(document.position(['steps', 1, 'query']), { line: 6, column: 12 });
  });

  test('a path that does not exist is placed at its nearest ancestor that does', () => {
    const document = documentOf(playbook);
    assert.deepEqual(document.position(['steps', 0, 'timeout']), document.position(['steps', 0]));
    assert.deepEqual(document.position(['steps', 7, 'name']), document.position(['steps']));
    assert.deepEqual(document.position(['name', 'deeper']), document.position(['name']));
  });

  test('a character of a block literal is placed at its own line and column', () => {
    const document = documentOf(playbook);
    const query = 'max(\n  up) == 1\n';
    assert.deepEqual(document.positionIn(['steps', 1, 'query'], query.indexOf('max')), { line: 7, column: 7 });
    assert.deepEqual(document.positionIn(['steps', 1, 'query'], query.indexOf('up')), { line: 8, column: 9 });
  });

  test('a character of a one-line string is placed at its column; of a folded or escaped string, at the string', () => {
    const document = documentOf(playbook);
    assert.deepEqual(document.positionIn(['steps', 0, 'with', 'query'], 'up '.length), { line: 4, column: 24 });
    assert.deepEqual(document.positionIn(['steps', 0, 'with', 'plain'], 'up '.length), { line: 4, column: 41 });
    assert.deepEqual(
      document.positionIn(['steps', 0, 'with', 'escaped'], 'a"b '.length),
      document.position(['steps', 0, 'with', 'escaped']),
    );
    assert.deepEqual(document.positionIn(['steps', 1, 'folded'], 'up '.length), document.position(['steps', 1, 'folded']));
  });

  test('a syntax error is a YAML problem at its line, and nothing of the file is given', () => {
    const read = readYamlSource('bad.yaml', 'name: bad\nsteps: [\n  - oops\n', 'thing');
    assert.equal(read.success, false);
    assert.ok(read.problems.length > 0);
    for (const problem of read.problems) {
      assert.equal(problem.file, 'bad.yaml');
      assert.match(problem.message, /^YAML: /);
      assert.ok(problem.line !== undefined && problem.line >= 2, JSON.stringify(problem));
    }
  });

  test('a duplicate key is an error at its line', () => {
    assert.deepEqual(readYamlSource('dup.yaml', 'a: 1\na: 2\n', 'thing'), {
      success: false,
      problems: [{ file: 'dup.yaml', line: 2, message: 'YAML: Map keys must be unique' }],
    });
  });

  test('an empty file and a file of several documents are errors', () => {
    assert.deepEqual(readYamlSource('e.yaml', '', 'thing'), { success: false, problems: [{ file: 'e.yaml', message: 'empty file' }] });
    assert.deepEqual(readYamlSource('e.yaml', '# nothing but a comment\n', 'thing'), {
      success: false,
      problems: [{ file: 'e.yaml', message: 'empty file' }],
    });
    assert.deepEqual(readYamlSource('m.yaml', 'a: 1\n---\nb: 2\n', 'thing'), {
      success: false,
      problems: [{ file: 'm.yaml', message: 'one thing per file (found several YAML documents)' }],
    });
  });
});

describe('readYamlDocuments', () => {
  test('reads every document of a file, each placing its values at the lines of the file', () => {
    const read = readYamlDocuments('m.yaml', 'a: 1\n---\nb:\n  c: 2\n');
    if (!read.success) assert.fail(JSON.stringify(read.problems));
    assert.deepEqual(
      read.documents.map((document) => document.value),
      [{ a: 1 }, { b: { c: 2 } }],
    );
    assert.deepEqual(read.documents[1]?.position(['b', 'c']), { line: 4, column: 6 });
  });

  test('a syntax error in any document fails the file', () => {
    const read = readYamlDocuments('m.yaml', 'a: 1\n---\nb: [\n');
    assert.equal(read.success, false);
  });
});
