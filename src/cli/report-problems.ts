import { formatProblem, type PlaybookProblem } from '../playbooks/load-playbooks.js';

/** Prints every playbook problem to stderr, one per line, under a headline. */
export function reportPlaybookProblems(problems: readonly PlaybookProblem[], stream: NodeJS.WritableStream = process.stderr): void {
  stream.write(`remediator: ${problems.length} problem${problems.length === 1 ? '' : 's'} in playbooks; refusing to start:\n`);
  for (const problem of problems) stream.write(`  ${formatProblem(problem)}\n`);
}
