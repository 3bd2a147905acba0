import { readFile } from 'node:fs/promises';

/** The non-empty lines of a file a step appends to; none when it does not exist yet. */
export async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}
