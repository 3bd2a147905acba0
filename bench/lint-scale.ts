import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { findExecutable } from '../src/redis/embedded-redis.js';
import { lintDirectory } from '../tools/lint/index.js';
import { writeLintProject } from './support/lint-project.js';
import { repoRoot } from '../tools/harness/repo-root.js';
import type { PartOptions } from './support/part.js';
import { median, round } from './support/stats.js';

const run = promisify(execFile);

/** Lint figures on a generated project of 500 rules, 200 playbooks and 20 dashboards. */
export interface LintFigures {
  files: number;
  rules: number;
  playbooks: number;
  dashboards: number;
  /** lintDirectory() in this process (warm), median over rounds. */
  inProcessMs: number;
  msPerFile: number;
  /** `remediator lint DIR` as a command, start-up included, median over rounds. */
  cliSeconds: number;
  /** Reading and parsing the same files (yaml parseDocument, JSON.parse) and nothing else: the floor. */
  parseBaselineMs: number;
  inProcessOverParseRatio: number;
  /** `promtool check rules` on the same rule files, when promtool is installed. */
  promtoolSeconds?: number;
  cliOverPromtoolRatio?: number;
  /** Problems lint reported on the generated project (0: it is clean, as generated). */
  problems: number;
  rounds: number;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Generates the project, then times lint in-process, as a command, and the parse floor and promtool beside it. */
export async function benchLint(options: PartOptions): Promise<LintFigures> {
  const rounds = options.quick ? 3 : 5;
  const size = { rules: 500, playbooks: 200, dashboards: 20 };
  const dir = await mkdtemp(join(tmpdir(), 'remediator-bench-lint-'));
  try {
    const files = await writeLintProject(dir, size);
    const first = await lintDirectory(dir, dir); // warm-up, and the problem count
    if (!first.ok)
      options.log(
        `lint: the generated project has ${first.result.problems.length} problem(s), e.g. ${first.lines.slice(0, 3).join(' | ')}`,
      );
    const paths = (
      await Promise.all(
        ['rules', 'remediations', 'grafana/dashboards', 'prometheus'].map(async (sub) =>
          (await readdir(join(dir, sub))).map((name) => join(dir, sub, name)),
        ),
      )
    ).flat();
    const parseAll = async () => {
      for (const path of paths) {
        const text = await readFile(path, 'utf8');
        if (path.endsWith('.json')) JSON.parse(text);
        else parseDocument(text);
      }
    };
    await parseAll();
    const promtool = await findExecutable('promtool');
    const ruleFiles = paths.filter((path) => path.endsWith('.rules.yml'));
    const samples = { inProcess: [] as number[], parse: [] as number[], cli: [] as number[], promtool: [] as number[] };
    for (let index = 0; index < rounds; index += 1) {
      samples.inProcess.push(await timed(() => lintDirectory(dir, dir)));
      samples.parse.push(await timed(parseAll));
      samples.cli.push(
        await timed(() =>
          run(process.execPath, [...options.entrypoints.remediator, 'lint', dir], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 }).catch(
            (error: unknown) => {
              // exit 1 means problems were found: still a complete lint run
              if ((error as { code?: unknown }).code !== 1) throw error;
            },
          ),
        ),
      );
      if (promtool !== undefined)
        samples.promtool.push(await timed(() => run(promtool, ['check', 'rules', ...ruleFiles], { maxBuffer: 16 * 1024 * 1024 })));
      options.log(
        `lint round ${index + 1}/${rounds}: in-process ${round(samples.inProcess.at(-1) ?? 0, 0)} ms, parse floor ${round(samples.parse.at(-1) ?? 0, 0)} ms, command ${round((samples.cli.at(-1) ?? 0) / 1000)} s${promtool === undefined ? '' : `, promtool check rules ${round((samples.promtool.at(-1) ?? 0) / 1000)} s`}`,
      );
    }
    const inProcessMs = median(samples.inProcess);
    const parseBaselineMs = median(samples.parse);
    const cliSeconds = median(samples.cli) / 1000;
    const promtoolSeconds = promtool === undefined ? undefined : median(samples.promtool) / 1000;
    return {
      files,
      ...size,
      inProcessMs: round(inProcessMs, 0),
      msPerFile: round(inProcessMs / files, 3),
      cliSeconds: round(cliSeconds),
      parseBaselineMs: round(parseBaselineMs, 0),
      inProcessOverParseRatio: round(inProcessMs / parseBaselineMs, 2),
      ...(promtoolSeconds === undefined
        ? {}
        : { promtoolSeconds: round(promtoolSeconds), cliOverPromtoolRatio: round(cliSeconds / promtoolSeconds, 2) }),
      problems: first.result.problems.length,
      rounds,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
