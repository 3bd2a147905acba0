import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { formatProblem } from '../../src/sources/index.js';
import { formatLintSummary, lintProject, type LintOptions, type LintResult } from './lint-project.js';
import { readProjectFiles } from './project-files.js';

/** The outcome of `remediator lint DIR`: what to print and whether the project is clean. */
export interface LintReport {
  readonly ok: boolean;
  readonly result: LintResult;
  /** One `file:line: message` per problem with paths as seen from `cwd`; the summary line when clean. */
  readonly lines: readonly string[];
}

/** Reads and lints the project at `root`; file names in the report are relative to `cwd` (absolute outside it). */
export async function lintDirectory(root: string, cwd: string, options: LintOptions = {}): Promise<LintReport> {
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`${root} is not a directory`);
  const result = lintProject(await readProjectFiles(root), options);
  const base = relative(cwd, resolve(cwd, root));
  const display = (file: string) =>
    base === '' ? file : base.startsWith('..') || isAbsolute(base) ? join(resolve(cwd, root), file) : join(base, file);
  const ok = result.problems.length === 0;
  return {
    ok,
    result,
    lines: ok
      ? [formatLintSummary(result.summary)]
      : result.problems.map((problem) => formatProblem({ ...problem, file: display(problem.file) })),
  };
}
