import type { z } from 'zod';
import type { SourceDocument, SourcePath } from './source-document.js';
import { atLine, formatPath, type SourceProblem } from './source-problem.js';

/** Problems found in one document, each placed at the line of the value it is about. */
export interface ProblemList {
  readonly problems: SourceProblem[];
  readonly add: (path: SourcePath, message: string) => void;
  /** Adds zod issues; unknown keys one by one, each at its own line (so each typo gets its own problem). */
  readonly addIssues: (issues: readonly z.core.$ZodIssue[], prefix?: SourcePath) => void;
}

const toPathPart = (part: PropertyKey): string | number => (typeof part === 'number' ? part : String(part));

/** A problem with the value at `path` of `document`, at its line. */
export function problemAt(document: SourceDocument, path: SourcePath, message: string): SourceProblem {
  return { file: document.file, path: formatPath(path), message, ...atLine(document.position(path)?.line) };
}

/** An empty list of problems for `document`. */
export function createProblemList(document: SourceDocument): ProblemList {
  const problems: SourceProblem[] = [];
  const add = (path: SourcePath, message: string) => {
    problems.push(problemAt(document, path, message));
  };
  return {
    problems,
    add,
    addIssues: (issues, prefix = []) => {
      for (const issue of issues) {
        const path = [...prefix, ...issue.path.map(toPathPart)];
        if (issue.code === 'unrecognized_keys') for (const key of issue.keys) add([...path, key], `unknown key "${key}"`);
        else add(path, issue.message);
      }
    },
  };
}
