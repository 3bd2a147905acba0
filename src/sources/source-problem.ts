/**
 * One problem in a file people write (a playbook, the inventory, SLO specs, rules, dashboards): the file, the
 * line when known, the path of the value it is about when it is about one, and what is wrong.
 */
export interface SourceProblem {
  readonly file: string;
  readonly line?: number;
  /** The value it is about, as `steps[0].with.url` (see formatPath); absent or empty when it is about no one value. */
  readonly path?: string;
  readonly message: string;
}

/** A problem's optional `line`, from a line that may be unknown. */
export const atLine = (line: number | undefined): { line?: number } => (line === undefined ? {} : { line });

/** `file:line: path: message`, the format editors and CI annotate. */
export function formatProblem(problem: SourceProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  return `${where}: ${problemText(problem)}`;
}

/** What follows `file:line: `. */
const problemText = (problem: SourceProblem): string => (problem.path ? `${problem.path}: ${problem.message}` : problem.message);

/** Renders a path as `steps[0].with.url`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join('');
}

/** One file's problems in the order of its lines, in place; problems on one line keep the order they were found in. */
export function sortByLine(problems: SourceProblem[]): SourceProblem[] {
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Many files' problems sorted by file, line and text, each distinct problem once (an expression using one unknown
 * metric twice is one problem).
 */
export function sortProblems(problems: readonly SourceProblem[]): SourceProblem[] {
  const seen = new Set<string>();
  return [...problems]
    .sort((a, b) => compareText(a.file, b.file) || (a.line ?? 0) - (b.line ?? 0) || compareText(problemText(a), problemText(b)))
    .filter((problem) => {
      const key = formatProblem(problem);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
