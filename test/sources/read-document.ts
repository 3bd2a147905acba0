import assert from 'node:assert/strict';
import { readYamlSource, type SourceDocument } from '../../src/sources/index.js';

/** The one document of YAML `text`, failing the test when it does not read. */
export function documentOf(text: string, file = 'file.yaml'): SourceDocument {
  const read = readYamlSource(file, text, 'thing');
  if (!read.success) assert.fail(JSON.stringify(read.problems));
  return read.document;
}
