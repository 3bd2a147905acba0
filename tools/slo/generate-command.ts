import { readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { SloGenerateOptions } from '../../src/cli/program.js';
import { reportProblems } from '../../src/cli/report-problems.js';
import { builtInAlertWindows, type AlertWindows } from './burn-rate-windows.js';
import { raisedFactorNotices } from './factor-notices.js';
import { loadAlertWindowsDir } from './load-alert-windows.js';
import { loadSloInputs } from './load-slo-inputs.js';
import { parsePromDuration } from './prom-duration.js';
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

/** The inputs as given: --input (repeated) and --slos, or rules/slos.yaml when there is none. */
function inputPaths(options: SloGenerateOptions): string[] {
  const given = [...options.input, ...(options.slos === undefined ? [] : [options.slos])];
  return given.length > 0 ? given : ['rules/slos.yaml'];
}

/** The burn-rate tables: a --slo-period-windows-path directory's (replacing the built-in ones, as in Sloth), or the built-in ones. */
async function alertWindowsCatalog(
  options: SloGenerateOptions,
  io: SloGenerateIo,
  consequence: string,
): Promise<readonly AlertWindows[] | undefined> {
  if (options.sloPeriodWindowsPath === undefined) return builtInAlertWindows;
  const display = displayPath(io.cwd, options.sloPeriodWindowsPath);
  const loaded = await loadAlertWindowsDir(resolve(io.cwd, options.sloPeriodWindowsPath), display);
  if (loaded.success) return loaded.windows;
  reportProblems(loaded.problems, { in: display, consequence }, io.stderr);
  return undefined;
}

/** `remediator slo generate [--check]`; resolves to the exit code (0; 1 on problems or a stale file; 2 on a bad option). */
export async function runSloGenerate(options: SloGenerateOptions, io: SloGenerateIo): Promise<number> {
  const inputs = inputPaths(options).map((path) => ({ path: resolve(io.cwd, path), display: displayPath(io.cwd, path) }));
  const source = inputs.map((input) => input.display).join(', ');
  const target = displayPath(io.cwd, options.out);
  const consequence = `${target} not ${options.check ? 'checked' : 'written'}`;
  const defaultPeriodMs = parsePromDuration(options.defaultSloPeriod);
  if (defaultPeriodMs === undefined) {
    io.stderr.write(`remediator: --default-slo-period ${options.defaultSloPeriod}: not a Prometheus duration (e.g. 30d, 4w)\n`);
    return 2;
  }
  const catalog = await alertWindowsCatalog(options, io, consequence);
  if (catalog === undefined) return 1;
  const loaded = await loadSloInputs(inputs, { catalog, defaultPeriodMs, extraLabels: options.extraLabels });
  if (!loaded.success) {
    reportProblems(loaded.problems, { in: source, consequence }, io.stderr);
    return 1;
  }
  for (const notice of raisedFactorNotices(loaded.definitions.slos)) io.stderr.write(`remediator: notice: ${notice}\n`);
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
