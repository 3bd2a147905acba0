import { readFile } from 'node:fs/promises';

/** The non-empty lines of a file a step appends to; none when it does not exist yet. */
export async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

/**
 * The lines of `file` that begin with `key` and a space, without that prefix: what one run (or one instance)
 * appended to a log that several share, in order.
 */
export async function linesFor(file: string, key: string): Promise<string[]> {
  return (await lines(file)).filter((line) => line.startsWith(`${key} `)).map((line) => line.slice(key.length + 1));
}
