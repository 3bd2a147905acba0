import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** `.yaml` and `.yml` files under `dir`, recursively, sorted: how Sloth's -i and --slo-period-windows-path walk a directory. */
export async function yamlFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}
