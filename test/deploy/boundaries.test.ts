import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const depcruise = join(root, 'node_modules/.bin/depcruise');

/** Runs the boundary check (the project's own configuration) on a tree of files; never throws. */
async function checkBoundaries(files: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  const dir = await tempDir('remediator-boundaries-');
  try {
    await copyFile(join(root, '.dependency-cruiser.cjs'), join(dir.path, '.dependency-cruiser.cjs'));
    await writeFile(
      join(dir.path, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src', 'tools'] }),
    );
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir.path, path)), { recursive: true });
      await writeFile(join(dir.path, path), text);
    }
    const { stdout } = await run(depcruise, ['src', 'tools', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
      cwd: dir.path,
    });
    return { ok: true, output: stdout };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` || failed.message };
  } finally {
    await dir.remove();
  }
}

/** A small tree that keeps every rule: core below everything, one-way folders, tools on top. */
const lawful: Record<string, string> = {
  'src/core/errors.ts': 'export const code = 1;\n',
  'src/http/auth.ts': "import { code } from '../core/errors.js';\nexport const auth = code;\n",
  'src/main.ts': "import { auth } from './http/auth.js';\nexport const main = auth;\n",
  'tools/lint/lint.ts': "import { code } from '../../src/core/errors.js';\nexport const lint = code;\n",
};

describe('the import boundaries (npm run boundaries)', () => {
  test('a tree that keeps the rules passes', { timeout: 60_000 }, async () => {
    const result = await checkBoundaries(lawful);
    assert.ok(result.ok, result.output);
  });

  test('a back-import from the core to a folder above it fails, naming the rule and the import', { timeout: 60_000 }, async () => {
    const result = await checkBoundaries({
      ...lawful,
      'src/core/errors.ts': "import type { auth } from '../http/auth.js';\nexport const code = 1;\nexport type Auth = typeof auth;\n",
    });
    assert.equal(result.ok, false);
    assert.match(result.output, /core-imports-only-core: src\/core\/errors\.ts → src\/http\/auth\.ts/);
  });

  test('two folders importing each other fail as a folder cycle', { timeout: 60_000 }, async () => {
    const result = await checkBoundaries({
      ...lawful,
      'src/queue/queue.ts': "import { runner } from '../runner/runner.js';\nexport const queue = runner;\n",
      'src/runner/runner.ts': 'export const runner = 1;\n',
      'src/runner/uses-queue.ts': "import { queue } from '../queue/queue.js';\nexport const uses = queue;\n",
    });
    assert.equal(result.ok, false);
    assert.match(result.output, /no-folder-cycles/);
  });

  test('the runtime importing a dev-time tool fails', { timeout: 60_000 }, async () => {
    const result = await checkBoundaries({
      ...lawful,
      'src/main.ts': "import { lint } from '../tools/lint/lint.js';\nexport const main = lint;\n",
    });
    assert.equal(result.ok, false);
    assert.match(result.output, /runtime-never-imports-tools: src\/main\.ts → tools\/lint\/lint\.ts/);
  });
});
