import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { reportPlaybookProblems, reportProblems } from '../../src/cli/report-problems.js';

/** Runs `write` against a stream and returns what it wrote. */
function written(write: (stream: NodeJS.WritableStream) => void): string {
  const stream = new PassThrough();
  write(stream);
  return (stream.read() as Buffer | null)?.toString() ?? '';
}

describe('reportProblems', () => {
  test('a headline with the count, where and what follows, then one indented file:line: path: message per problem', () => {
    const text = written((stream) => {
      reportProblems(
        [
          { file: 'rules/slos.yaml', line: 4, path: 'services[0].name', message: 'bad' },
          { file: 'rules/slos.yaml', message: 'worse' },
        ],
        { in: 'rules/slos.yaml', consequence: 'rules/slo.rules.yml not written' },
        stream,
      );
    });
    assert.equal(
      text,
      'remediator: 2 problems in rules/slos.yaml; rules/slo.rules.yml not written:\n  rules/slos.yaml:4: services[0].name: bad\n  rules/slos.yaml: worse\n',
    );
  });

  test('one playbook problem: the start-up refusal, in the singular', () => {
    const text = written((stream) => {
      reportPlaybookProblems([{ file: 'remediations/a.yaml', line: 2, path: 'match', message: 'invalid' }], stream);
    });
    assert.equal(text, 'remediator: 1 problem in playbooks; refusing to start:\n  remediations/a.yaml:2: match: invalid\n');
  });
});
