import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { reportProblems } from '../../src/cli/report-problems.js';
import { errorMessage } from '../../src/core/errors/index.js';
import { problemAt, type SourceProblem } from '../../src/sources/index.js';
import { loadPlaybookSet, type PlaybookSet } from '../simulate/playbook-set.js';
import { simulate, type SimScenario, type SimScenarioResult } from '../simulate/simulator.js';
import { compareAlert, type Difference } from './compare-outcomes.js';
import { loadTestFile, testStart, type LoadedTestFile } from './load-test-file.js';
import { missingPrograms } from './required-programs.js';

/** Where the command reads relative paths from and writes its report to. */
export interface PlaybookTestIo {
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** `3m`, `1h30m`, `-10m`, `0s`: a time of a test's clock as people write it. */
export function formatOffset(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const amount = Math.floor(rest / size);
    if (amount > 0) parts.push(`${amount}${unit}`);
    rest -= amount * size;
  }
  return sign + parts.join('');
}

function alertName(labels: Readonly<Record<string, string>>): string {
  const { alertname, ...others } = labels;
  const rest = Object.entries(others)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(',');
  return `${alertname ?? ''}{${rest}}`;
}

/** The files named, a directory standing for the *.yaml and *.yml files directly in it (sorted). */
async function expandFiles(paths: readonly string[], cwd: string): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    const info = await stat(absolute).catch(() => undefined);
    if (!info?.isDirectory()) {
      files.push(absolute);
      continue;
    }
    const names = (await readdir(absolute, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
      .map((entry) => entry.name)
      .sort();
    files.push(...names.map((name) => join(absolute, name)));
  }
  return files;
}

/** Loads the files and the playbook directories they name; every problem of every file. */
async function loadAll(paths: readonly string[], cwd: string) {
  const problems: SourceProblem[] = [];
  const loaded: { file: LoadedTestFile; set: PlaybookSet }[] = [];
  const sets = new Map<string, ReturnType<typeof loadPlaybookSet>>();
  const reported = new Set<string>();
  const files = await expandFiles(paths, cwd);
  if (files.length === 0) problems.push({ file: paths.join(' '), message: 'no test files (*.yaml) there' });
  for (const path of files) {
    const absolute = resolve(cwd, path);
    const read = await loadTestFile(absolute, displayPath(cwd, absolute));
    problems.push(...read.problems);
    const { file } = read;
    if (!file) continue;
    const key = `${file.playbooksDir}\u0000${file.inventory ?? ''}`;
    if (!sets.has(key))
      sets.set(key, loadPlaybookSet(file.playbooksDir, { cwd, ...(file.inventory === undefined ? {} : { inventory: file.inventory }) }));
    const set = await (sets.get(key) as ReturnType<typeof loadPlaybookSet>);
    if (!set.success) {
      // Once per directory: the same broken playbook is not reported for every test file that uses it.
      if (!reported.has(key)) problems.push(...set.problems);
      reported.add(key);
      problems.push({ file: file.file, path: 'playbooks', message: `the playbooks in ${displayPath(cwd, file.playbooksDir)} do not load` });
      continue;
    }
    // A playbook named by a test must exist: a typo would otherwise read as "did not match".
    const names = new Set(set.set.playbooks.map((playbook) => playbook.name));
    const unknown = (path: (string | number)[], name: string) => {
      if (!names.has(name)) problems.push(problemAt(file.document, path, `no playbook ${name} in ${displayPath(cwd, file.playbooksDir)}`));
    };
    file.tests.forEach((test, t) => {
      test.budgets.forEach((seed, b) => {
        unknown(['tests', t, 'state', 'budgets', b, 'playbook'], seed.playbook);
      });
      test.inputs.forEach((input, i) => {
        input.expect.forEach((expected, e) => {
          expected.runs.forEach((run, r) => {
            unknown(['tests', t, 'inputs', i, 'expect', e, 'runs', r, 'playbook'], run.playbook);
          });
        });
      });
    });
    loaded.push({ file, set: set.set });
  }
  return { problems, loaded };
}

/** The differences of one test, as report lines (none: it passed). */
function testReport(file: LoadedTestFile, index: number, result: SimScenarioResult): string[] {
  const test = file.tests[index];
  if (!test) return [];
  const lines = result.problems.map((problem) => `state: ${problem}`);
  test.inputs.forEach((input, i) => {
    const got = result.inputs.find((entry) => entry.index === i);
    for (const expected of input.expect) {
      const alert = got?.alerts[expected.alert];
      if (!alert) continue;
      const differences = compareAlert(expected.runs, alert);
      if (differences.length === 0) continue;
      lines.push(`input ${i} at ${formatOffset(input.atMs)}, alert ${expected.alert} ${alertName(alert.labels)}:`);
      const byPlaybook = new Map<string, Difference[]>();
      for (const difference of differences) {
        const key = difference.playbook ?? '';
        byPlaybook.set(key, [...(byPlaybook.get(key) ?? []), difference]);
      }
      for (const [playbook, list] of byPlaybook) {
        lines.push(`  playbook ${playbook}:`);
        for (const difference of list)
          lines.push(`    ${difference.field}:`, `      expected: ${difference.expected}`, `      got:      ${difference.got}`);
      }
    }
  });
  return lines;
}

/**
 * `remediator test FILE…`: runs the playbook tests of each file through the simulator (one Redis and one Prometheus
 * for all of them) and reports each test; 0 when all pass, 1 when one fails or a file has problems, 2 without files.
 */
export async function runPlaybookTests(files: readonly string[], io: PlaybookTestIo): Promise<number> {
  if (files.length === 0) {
    io.stderr.write('remediator test: give the playbook test files to run (e.g. remediations/tests/*.yaml)\n');
    return 2;
  }
  const { problems, loaded } = await loadAll(files, io.cwd);
  if (problems.length > 0) {
    reportProblems(problems, { in: 'the playbook tests', consequence: 'no test ran' }, io.stderr);
    return 1;
  }
  const missing = missingPrograms();
  if (missing.length > 0) {
    for (const line of missing) io.stderr.write(`remediator test: ${line}\n`);
    return 1;
  }
  const scenarios: SimScenario[] = loaded.flatMap(({ file, set }) =>
    file.tests.map((test) => ({
      name: test.name,
      playbooks: set,
      start: testStart,
      series: test.series,
      budgets: test.budgets,
      holds: test.holds,
      ...(test.global === undefined ? {} : { global: test.global }),
      inputs: test.inputs.map((input) => ({ atMs: input.atMs, payload: input.payload })),
    })),
  );
  let results: SimScenarioResult[];
  try {
    results = await simulate(scenarios);
  } catch (error) {
    io.stderr.write(`remediator test: the simulation could not run: ${errorMessage(error)}\n`);
    return 1;
  }
  let failed = 0;
  let position = 0;
  for (const { file } of loaded) {
    io.stdout.write(`${file.file}\n`);
    file.tests.forEach((test, index) => {
      const result = results[position++];
      const lines = result ? testReport(file, index, result) : ['no result'];
      if (lines.length === 0) {
        io.stdout.write(`  ok      ${test.name}\n`);
        return;
      }
      failed += 1;
      io.stdout.write(`  FAILED  ${test.name}\n`);
      for (const line of lines) io.stdout.write(`          ${line}\n`);
    });
  }
  io.stdout.write(`${results.length} test${results.length === 1 ? '' : 's'}, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}
