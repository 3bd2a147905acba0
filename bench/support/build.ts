import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../../tools/harness/repo-root.js';

/**
 * Where the bench puts remediator compiled to JavaScript: inside node_modules (ignored by git, and module
 * resolution from there still finds the repository's node_modules).
 */
export const buildDir = join(repoRoot, 'node_modules', '.cache', 'remediator-bench');

/** How to start each program under test: node's arguments before the program's own. */
export interface Entrypoints {
  /** `remediator` (then `serve …`, `lint …`). */
  remediator: string[];
  baselineServer: string[];
  baselineWorker: string[];
  /** How they were started, for the report. */
  mode: 'compiled' | 'tsx';
}

/** The TypeScript sources run through tsx's loader (as `npm run demo` and the tests do). */
export function tsxEntrypoints(): Entrypoints {
  return {
    remediator: ['--import', 'tsx', join(repoRoot, 'src', 'main.ts')],
    baselineServer: ['--import', 'tsx', join(repoRoot, 'bench', 'baseline-server.ts')],
    baselineWorker: ['--import', 'tsx', join(repoRoot, 'bench', 'baseline-worker.ts')],
    mode: 'tsx',
  };
}

async function transpile(fromDir: string, files: readonly string[], toDir: string): Promise<void> {
  for (const file of files) {
    const output = ts.transpileModule(await readFile(join(fromDir, file), 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023, verbatimModuleSyntax: true, isolatedModules: true },
    });
    const target = join(toDir, file.replace(/\.ts$/, '.js'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, output.outputText);
  }
}

/**
 * Compiles src/ and the two baselines file by file (TypeScript's transpileModule: no type check, which `npm run
 * typecheck` does) into `buildDir`, with a copy of package.json beside them, so everything under test runs as
 * production runs it (`node dist/main.js`, as the Dockerfile does), not through tsx's loader thread.
 */
export async function buildEntrypoints(): Promise<Entrypoints> {
  await rm(buildDir, { recursive: true, force: true });
  const srcDir = join(repoRoot, 'src');
  const sources = (await readdir(srcDir, { recursive: true })).filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
  await transpile(srcDir, sources, join(buildDir, 'dist'));
  await transpile(join(repoRoot, 'bench'), ['baseline-server.ts', 'baseline-worker.ts'], join(buildDir, 'bench'));
  // main.js reads ../package.json for its version; "type": "module" also makes the .js files ES modules.
  await writeFile(join(buildDir, 'package.json'), await readFile(join(repoRoot, 'package.json'), 'utf8'));
  return {
    remediator: [join(buildDir, 'dist', 'main.js')],
    baselineServer: [join(buildDir, 'bench', 'baseline-server.js')],
    baselineWorker: [join(buildDir, 'bench', 'baseline-worker.js')],
    mode: 'compiled',
  };
}

/**
 * The NODE_OPTIONS the production image sets (the Dockerfile's `ENV NODE_OPTIONS=` line), so that the bench runs
 * remediator with the same V8 settings as production.
 */
export async function productionNodeOptions(): Promise<string> {
  const dockerfile = await readFile(join(repoRoot, 'Dockerfile'), 'utf8');
  const line = /^ENV NODE_OPTIONS=(.+)$/m.exec(dockerfile);
  if (!line?.[1]) throw new Error('the Dockerfile sets no NODE_OPTIONS');
  return line[1].trim();
}
