/** One problem `remediator lint` found: a path inside the project, the line when known, and what is wrong. */
export interface LintProblem {
  readonly file: string;
  readonly line?: number;
  readonly message: string;
}

/** `file:line: message`, the format editors and CI annotate. */
export function formatLintProblem(problem: LintProblem, displayFile: (file: string) => string = (file) => file): string {
  const file = displayFile(problem.file);
  return `${problem.line === undefined ? file : `${file}:${problem.line}`}: ${problem.message}`;
}

/** Sorted by file, line and message, each distinct problem once (an expression using one unknown metric twice is one problem). */
export function sortLintProblems(problems: readonly LintProblem[]): LintProblem[] {
  const seen = new Set<string>();
  return [...problems]
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0) || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)))
    .filter((problem) => {
      const key = formatLintProblem(problem);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
