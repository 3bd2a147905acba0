import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { createProblemList, formatProblem, problemAt } from '../../src/sources/index.js';
import { documentOf } from './read-document.js';

const text = `name: x
steps:
  - name: a
    actoin: log
    timeout: soon
`;

describe('createProblemList', () => {
  test('places a problem at the line of its path, with the path written as people read it', () => {
    const list = createProblemList(documentOf(text, 'p.yaml'));
    list.add(['steps', 0, 'timeout'], 'not a duration');
    list.add(['steps', 0, 'with', 'message'], 'missing');
    assert.deepEqual(list.problems.map(formatProblem), [
      'p.yaml:5: steps[0].timeout: not a duration',
      'p.yaml:3: steps[0].with.message: missing',
    ]);
  });

  test('adds zod issues, each unknown key on its own line, under a prefix', () => {
    const document = documentOf(text, 'p.yaml');
    const step = z.strictObject({ name: z.string(), action: z.string(), timeout: z.number() });
    const parsed = step.safeParse((document.value as { steps: unknown[] }).steps[0]);
    assert.equal(parsed.success, false);
    const list = createProblemList(document);
    list.addIssues(parsed.error.issues, ['steps', 0]);
    assert.deepEqual(list.problems.map(formatProblem).sort(), [
      'p.yaml:3: steps[0].action: Invalid input: expected string, received undefined',
      'p.yaml:4: steps[0].actoin: unknown key "actoin"',
      'p.yaml:5: steps[0].timeout: Invalid input: expected number, received string',
    ]);
  });
});

describe('problemAt', () => {
  test('is one problem at the line of its path', () => {
    assert.deepEqual(problemAt(documentOf(text, 'p.yaml'), ['name'], 'taken'), { file: 'p.yaml', path: 'name', message: 'taken', line: 1 });
  });
});
