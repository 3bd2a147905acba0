import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const root = fileURLToPath(new URL('../..', import.meta.url));

const ranges = z.record(z.string(), z.string()).default({});
const manifestSchema = z.object({ dependencies: ranges, devDependencies: ranges, optionalDependencies: ranges });
const lockSchema = z.object({ packages: z.object({ '': manifestSchema }) });

async function readJson(name: string): Promise<unknown> {
  return JSON.parse(await readFile(`${root}${name}`, 'utf8'));
}

describe('package-lock.json', () => {
  // npm rewrites a lock file whose root entry disagrees with package.json: every install then leaves a diff behind,
  // and a pin in package.json (bullmq is pinned because the intake's Lua script copies its add) is not what was locked.
  test('records exactly the dependency ranges package.json declares, so an install leaves it unchanged', async () => {
    const manifest = manifestSchema.parse(await readJson('package.json'));
    const locked = lockSchema.parse(await readJson('package-lock.json')).packages[''];
    for (const kind of ['dependencies', 'devDependencies', 'optionalDependencies'] as const) {
      assert.deepEqual(locked[kind], manifest[kind], `${kind} of the lock file's root package differ from package.json`);
    }
  });
});
