import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the system's temp dir and the function that removes it with everything in it. */
export interface TempDir {
  readonly path: string;
  readonly remove: () => Promise<void>;
}

/** A fresh temp directory, removed by the returned `remove`. */
export async function tempDir(prefix = 'remediator-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
