import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { z } from 'zod';

/** A path into a YAML document, as zod reports it. */
export type SourcePath = (string | number)[];

/** One problem in one YAML file people write (playbooks, inventory). */
export interface SourceProblem {
  file: string;
  line?: number;
  path: string;
  message: string;
}

/** A parsed single-document YAML file, with helpers that report problems at the right line. */
export interface YamlSource {
  readonly raw: unknown;
  readonly problems: SourceProblem[];
  readonly locate: (path: SourcePath) => number | undefined;
  readonly add: (path: SourcePath, message: string) => void;
  /** Adds zod issues, unknown keys one by one (so each typo gets its own line). */
  readonly addIssues: (issues: readonly z.core.$ZodIssue[], prefix?: SourcePath) => void;
}

/** `file:line: path: message`, the format editors and CI annotate. */
export function formatProblem(problem: SourceProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  return `${where}: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`;
}

/** Renders a path as `steps[0].with.url`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

/** Sorts problems by line, in place. */
export const byLine = (problems: SourceProblem[]): SourceProblem[] => problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));

const toPathPart = (part: PropertyKey): string | number => (typeof part === 'number' ? part : String(part));

/**
 * Parses a file that must hold exactly one YAML document (duplicate keys are errors). Returns the syntax
 * problems alone when it does not parse, so callers never validate half a document.
 */
export function parseYamlSource(file: string, text: string, what: string): YamlSource | { problems: SourceProblem[]; raw?: undefined } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const documents = Array.isArray(docs) ? docs : [];
  const problems: SourceProblem[] = [];
  for (const doc of documents) {
    for (const error of doc.errors) {
      const line = error.linePos?.[0].line;
      const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
      problems.push({ file, path: '', message, ...(line === undefined ? {} : { line }) });
    }
  }
  if (problems.length > 0) return { problems: byLine(problems) };
  const first = documents[0];
  if (!first || documents.length !== 1) {
    return { problems: [{ file, path: '', message: documents.length === 0 ? 'empty file' : `one ${what} per file (found several YAML documents)` }] };
  }
  const locate = (path: SourcePath) => locateLine(first, lineCounter, path);
  const add = (path: SourcePath, message: string) => {
    const line = locate(path);
    problems.push({ file, path: formatPath(path), message, ...(line === undefined ? {} : { line }) });
  };
  return {
    raw: first.toJS() as unknown,
    problems,
    locate,
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

/** The 1-based line of the deepest YAML node along `path`. */
function locateLine(doc: Document, lineCounter: LineCounter, path: SourcePath): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
    const offset = node?.range?.[0];
    if (offset !== undefined) return lineCounter.linePos(offset).line;
  }
  return undefined;
}
