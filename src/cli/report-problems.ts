import { formatProblem, type SourceProblem } from '../sources/index.js';

/**
 * Prints `remediator: N problems in <where>; <consequence>:` and then every problem, one per line, to stderr:
 * the report of `validate`, of the serve and exporter start-up refusals and of `slo generate`.
 */
export function reportProblems(
  problems: readonly SourceProblem[],
  where: { in: string; consequence: string },
  stream: NodeJS.WritableStream = process.stderr,
): void {
  stream.write(`remediator: ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${where.in}; ${where.consequence}:\n`);
  for (const problem of problems) stream.write(`  ${formatProblem(problem)}\n`);
}

/** Prints every playbook (and inventory) problem under the start-up refusal headline. */
export function reportPlaybookProblems(problems: readonly SourceProblem[], stream: NodeJS.WritableStream = process.stderr): void {
  reportProblems(problems, { in: 'playbooks', consequence: 'refusing to start' }, stream);
}
