import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { SloGenerateOptions } from '../../src/cli/program.js';
import { reportProblems } from '../../src/cli/report-problems.js';
import { loadSlos } from './load-slos.js';
import { renderSloRules } from './render-slo-rules.js';
import { sloRuleGroups } from './slo-rules.js';

/** Where the command reads relative paths from and writes its messages to. */
export interface SloGenerateIo {
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** A path as people typed it relative to `cwd` (posix separators, so the generated header is the same everywhere). */
function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, resolve(cwd, path));
  return rel.startsWith('..') || isAbsolute(rel) ? resolve(cwd, path) : rel.split(sep).join('/');
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** `remediator slo generate [--check]`; resolves to the exit code (0, or 1 on problems or a stale file). */
export async function runSloGenerate(options: SloGenerateOptions, io: SloGenerateIo): Promise<number> {
  const source = displayPath(io.cwd, options.slos);
  const target = displayPath(io.cwd, options.out);
  const loaded = await loadSlos(resolve(io.cwd, options.slos), source);
  if (!loaded.success) {
    reportProblems(loaded.problems, { in: source, consequence: `${target} not ${options.check ? 'checked' : 'written'}` }, io.stderr);
    return 1;
  }
  const text = renderSloRules(loaded.definitions, source);
  const current = await readIfExists(resolve(io.cwd, options.out));
  const slos = loaded.definitions.slos.length;
  const rules = sloRuleGroups(loaded.definitions).reduce((sum, group) => sum + group.rules.length, 0);
  if (current === text) {
    io.stdout.write(`${target} is up to date (${slos} SLOs, ${rules} rules)\n`);
    return 0;
  }
  if (options.check) {
    io.stderr.write(
      `remediator: ${target} is ${current === undefined ? 'missing' : 'stale'}: it is not what ${source} generates; run \`remediator slo generate\`\n`,
    );
    return 1;
  }
  await writeFile(resolve(io.cwd, options.out), text);
  io.stdout.write(`wrote ${target} from ${source} (${slos} SLOs, ${rules} rules)\n`);
  return 0;
}
