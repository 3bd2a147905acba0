import { LineCounter, parseDocument } from 'yaml';
import { sourceDocument, type ReadSourceResult } from './source-document.js';

/**
 * Reads a JSON file. JSON.parse decides validity; the same text is then read as YAML (JSON is YAML 1.2 flow
 * syntax) only to learn where each value is.
 */
export function readJsonSource(file: string, text: string): ReadSourceResult {
  try {
    JSON.parse(text);
  } catch (error) {
    const offset = firstJsonErrorOffset(text);
    const line = offset === undefined ? {} : { line: text.slice(0, offset).split('\n').length };
    return { success: false, problems: [{ file, message: `JSON: ${jsonErrorMessage((error as Error).message)}`, ...line }] };
  }
  const lineCounter = new LineCounter();
  // JSON.parse keeps the last of duplicate keys; so does this.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  return { success: true, document: sourceDocument(file, text, doc, lineCounter) };
}

/** JSON.parse's message without the quoted copy of the input or a position (the line is given separately). */
function jsonErrorMessage(message: string): string {
  return (message.split('\n')[0] ?? message)
    .replace(/, ".*$/, '')
    .replace(/ in JSON at position \d+.*$/, '')
    .replace(/ \(line \d+ column \d+\)$/, '');
}

/**
 * The offset of the first character that makes `text` not JSON, or undefined when it is JSON. JSON.parse's message
 * does not always say where (Node 20: `Unexpected token ',', "…" is not valid JSON`), so the text is scanned.
 */
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
