import { readFile } from 'node:fs/promises';
import type { SourceProblem } from './source-problem.js';

/**
 * Reads a file people may leave out (the inventory, drills.yaml): its text, `missing` when it does not exist, or the
 * problem that kept it from being read, named as `what` (e.g. "the inventory") at `file` (the path shown).
 */
export async function readOptionalFile(
  path: string,
  file: string,
  what: string,
): Promise<{ text: string } | { missing: true } | { problem: SourceProblem }> {
  try {
    return { text: await readFile(path, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { missing: true };
    return { problem: { file, message: `cannot read ${what} (${code ?? 'error'})` } };
  }
}
