import { LineCounter, isScalar, parseAllDocuments, type Document } from 'yaml';
import { sortByLine, type SourceProblem } from './source-problem.js';

/** A path into a parsed document: keys and indexes, as zod reports them. */
export type SourcePath = readonly (string | number)[];

/** A place in a file, both 1-based. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** A parsed YAML or JSON document that can tell where any value in it is written. */
export interface SourceDocument {
  readonly file: string;
  /** The document as plain data (objects, arrays, strings, numbers, booleans, null). */
  readonly value: unknown;
  /** Where the value at `path` starts, or where its nearest ancestor that exists does. */
  position(path: SourcePath): SourcePosition | undefined;
  /**
   * Where character `offset` of the string at `path` is written: exact in a block literal (`|`), whose lines are the
   * file's lines, and in a one-line string without escapes; the string's start otherwise (folded and quoted
   * strings do not keep the file's lines).
   */
  positionIn(path: SourcePath, offset: number): SourcePosition | undefined;
}

/** The outcome of reading one file: never throws. */
export type ReadSourceResult = { success: true; document: SourceDocument } | { success: false; problems: SourceProblem[] };

/**
 * Reads every document of a YAML file (duplicate keys are errors, as Prometheus treats them). Returns the syntax
 * problems alone when any document does not parse, so that callers never validate half a file.
 */
export function readYamlDocuments(
  file: string,
  text: string,
): { success: true; documents: SourceDocument[] } | { success: false; problems: SourceProblem[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  const documents = Array.isArray(parsed) ? parsed : [];
  const problems = documents.flatMap((doc) =>
    doc.errors.map((error): SourceProblem => {
      const line = error.linePos?.[0].line;
      const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
      return { file, message: `YAML: ${message}`, ...(line === undefined ? {} : { line }) };
    }),
  );
  if (problems.length > 0) return { success: false, problems: sortByLine(problems) };
  return { success: true, documents: documents.map((doc) => sourceDocument(file, text, doc, lineCounter)) };
}

/** Reads a YAML file that must hold exactly one document; `what` names it in the problem when it holds several. */
export function readYamlSource(file: string, text: string, what: string): ReadSourceResult {
  const read = readYamlDocuments(file, text);
  if (!read.success) return read;
  const [document, ...others] = read.documents;
  if (document === undefined) return { success: false, problems: [{ file, message: 'empty file' }] };
  if (others.length > 0) return { success: false, problems: [{ file, message: `one ${what} per file (found several YAML documents)` }] };
  return { success: true, document };
}

type Range = [number, number, number];

/** A parsed document with the text it came from; JSON files are read through here too (JSON is YAML 1.2 flow syntax). */
export function sourceDocument(file: string, text: string, doc: Document, lineCounter: LineCounter): SourceDocument {
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const rangeOf = (path: SourcePath): Range | undefined => {
    for (let depth = path.length; depth >= 0; depth--) {
      const range = (doc.getIn(path.slice(0, depth), true) as { range?: Range | null } | undefined)?.range;
      if (range) return range;
    }
    return undefined;
  };
  const position = (path: SourcePath) => {
    const range = rangeOf(path);
    return range === undefined ? undefined : at(range[0]);
  };
  return {
    file,
    value: doc.toJS() as unknown,
    position,
    positionIn(path, offset) {
      const node: unknown = doc.getIn(path, true);
      const start = position(path);
      if (start === undefined || !isScalar(node) || typeof node.value !== 'string' || !node.range) return start;
      const value = node.value;
      const source = text.slice(node.range[0], node.range[1]);
      if (node.type === 'BLOCK_LITERAL') return positionInBlockLiteral(text, start.line, value, offset);
      const quote = node.type === 'QUOTE_SINGLE' ? "'" : node.type === 'QUOTE_DOUBLE' ? '"' : '';
      // Only where the text is the value as written (no escapes, no line folding) do offsets carry over.
      return node.type !== 'BLOCK_FOLDED' && source === `${quote}${value}${quote}` && !value.includes('\n')
        ? { line: start.line, column: start.column + quote.length + offset }
        : start;
    },
  };
}

/**
 * The header (`|`) is on the block's first line; its text starts on the next one, one file line per text line,
 * each indented as the first line that is not blank.
 */
function positionInBlockLiteral(text: string, headerLine: number, value: string, offset: number): SourcePosition {
  const before = value.slice(0, offset);
  const lineIndex = before.match(/\n/g)?.length ?? 0;
  const fileLines = text.split('\n').slice(headerLine);
  const indent = /^ */.exec(fileLines.find((line) => line.trim() !== '') ?? '')?.[0].length ?? 0;
  return { line: headerLine + 1 + lineIndex, column: indent + offset - (before.lastIndexOf('\n') + 1) + 1 };
}
