import { LineCounter, isScalar, parseAllDocuments, parseDocument, type Document } from 'yaml';
import type { LintProblem } from './lint-problem.js';

/** A path into a parsed file: keys and indexes. */
export type DocumentPath = readonly (string | number)[];

/** A parsed YAML or JSON file that can tell the line of any value in it. */
export interface SourceDocument {
  readonly value: unknown;
  /** The 1-based line of the value at `path`, or of its nearest ancestor that exists. */
  line(path: DocumentPath): number | undefined;
  /**
   * The line of character `offset` of the string at `path`: exact in a block literal (`|`), whose lines are the
   * file's lines; the string's first line otherwise (folded and quoted strings do not keep the file's lines).
   */
  lineIn(path: DocumentPath, offset: number): number | undefined;
}

/** The outcome of parsing one file: never throws. */
export type ParseDocumentResult = { success: true; document: SourceDocument } | { success: false; problems: LintProblem[] };

/** Parses a YAML file that holds one document (duplicate keys are errors, as Prometheus and the playbook loader treat them). */
export function parseYamlDocument(file: string, text: string): ParseDocumentResult {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const list = Array.isArray(documents) ? documents : [];
  const problems: LintProblem[] = list.flatMap((doc) =>
    doc.errors.map((error) => {
      const line = error.linePos?.[0].line;
      const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
      return { file, message: `YAML: ${message}`, ...(line === undefined ? {} : { line }) };
    }),
  );
  if (problems.length > 0) return { success: false, problems };
  const first = list[0];
  if (first === undefined || list.length !== 1) {
    return { success: false, problems: [{ file, message: list.length === 0 ? 'empty file' : 'several YAML documents in one file' }] };
  }
  return { success: true, document: sourceDocument(first, lineCounter) };
}

/**
 * Each file parsed as one YAML document. A file that does not parse adds its problems to `into` and marks it
 * incomplete (what it declares is then unknown), and is skipped.
 */
export function* yamlDocuments<F extends { path: string; text: string }>(files: readonly F[], into: { problems: LintProblem[]; complete: boolean }): Generator<{ file: F; document: SourceDocument }> {
  for (const file of files) {
    const parsed = parseYamlDocument(file.path, file.text);
    if (!parsed.success) {
      into.problems.push(...parsed.problems);
      into.complete = false;
      continue;
    }
    yield { file, document: parsed.document };
  }
}

/**
 * Parses a JSON file. JSON.parse decides validity; the same text is then read as YAML (JSON is YAML 1.2 flow
 * syntax) only to learn where each value is.
 */
export function parseJsonDocument(file: string, text: string): ParseDocumentResult {
  try {
    JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    return { success: false, problems: [{ file, message: `JSON: ${jsonErrorMessage(message)}`, ...jsonErrorLine(text) }] };
  }
  const lineCounter = new LineCounter();
  // JSON.parse keeps the last of duplicate keys; so does this.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  return { success: true, document: sourceDocument(doc, lineCounter) };
}

/**
 * The line of a JSON syntax error. JSON.parse's message does not always say where (Node 20: `Unexpected token
 * ',', "…" is not valid JSON`), so the text is scanned for the first offset that is not JSON.
 */
function jsonErrorLine(text: string): { line?: number } {
  const offset = firstJsonErrorOffset(text);
  return offset === undefined ? {} : { line: text.slice(0, offset).split('\n').length };
}

/** JSON.parse's message without the quoted copy of the input or a position (the line is given separately). */
function jsonErrorMessage(message: string): string {
  return (message.split('\n')[0] ?? message)
    .replace(/, ".*$/, '')
    .replace(/ in JSON at position \d+.*$/, '')
    .replace(/ \(line \d+ column \d+\)$/, '');
}

/** The offset of the first character that makes `text` not JSON, or undefined when it is JSON. */
export function firstJsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
  };
  const string = (): boolean => {
    i++;
    while (i < text.length) {
      const char = text[i] ?? '';
      if (char === '"') {
        i++;
        return true;
      }
      if (char < ' ') return false;
      i += char === '\\' ? 2 : 1;
    }
    return false;
  };
  const value = (): boolean => {
    space();
    const char = text[i];
    if (char === '"') return string();
    if (char === '{' || char === '[') {
      const close = char === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) {
        i++;
        return true;
      }
      for (;;) {
        if (char === '{') {
          space();
          if (text[i] !== '"' || !string()) return false;
          space();
          if (text[i] !== ':') return false;
          i++;
        }
        if (!value()) return false;
        space();
        if (text[i] === close) {
          i++;
          return true;
        }
        if (text[i] !== ',') return false;
        i++;
      }
    }
    const literal = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!literal) return false;
    i += literal[0].length;
    return true;
  };
  if (!value()) return i;
  space();
  return i < text.length ? i : undefined;
}

function sourceDocument(doc: Document, lineCounter: LineCounter): SourceDocument {
  const nodeAt = (path: DocumentPath) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node: unknown = doc.getIn(path.slice(0, depth), true);
      if (typeof node === 'object' && node !== null && 'range' in node) return node as { range?: [number, number, number] | null };
    }
    return undefined;
  };
  const line = (path: DocumentPath) => {
    const offset = nodeAt(path)?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  return {
    value: doc.toJS() as unknown,
    line,
    lineIn(path, offset) {
      const node: unknown = doc.getIn(path, true);
      const start = line(path);
      if (start === undefined || !isScalar(node) || node.type !== 'BLOCK_LITERAL' || typeof node.value !== 'string') return start;
      // The header (`|`) is on the first line; the text starts on the next one, one file line per text line.
      return start + 1 + (node.value.slice(0, offset).match(/\n/g)?.length ?? 0);
    },
  };
}
