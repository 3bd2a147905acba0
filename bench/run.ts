// `npm run bench [-- --quick] [-- --json]`: remediator's performance as ratios against baselines measured in the
// same run (see docs/benchmarks.md). Progress goes to stderr; with --json the last stdout line is one JSON object.
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { errorMessage } from '../src/core/errors/index.js';
import { benchDispatch } from './dispatch.js';
import { benchIntake } from './intake.js';
import { benchLint } from './lint-scale.js';
import { benchReconcile } from './reconcile.js';
import { benchRecovery } from './recovery.js';
import { benchStorm } from './storm.js';
import { benchSwitchover } from './switchover.js';
import { buildEntrypoints, tsxEntrypoints } from './support/build.js';
import { summarizeCpuProfile } from './support/cpu-profile.js';
import { machineInfo } from './support/machine.js';
import type { PartOptions } from './support/part.js';
import { formatTable, targets, type Report } from './support/report.js';

const parts = ['intake', 'dispatch', 'storm', 'lint', 'reconcile', 'recovery', 'switchover'] as const;
type Part = (typeof parts)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    tsx: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout
    .write(`usage: npm run bench -- [--quick] [--json] [--only intake,dispatch,storm,lint,reconcile,recovery,switchover] [--tsx] [--profile]
  --quick    short rounds (the whole run stays under 5 minutes on 2 cores)
  --json     the last stdout line is one JSON object with every figure
  --only     run only these parts
  --tsx      run remediator and the baselines through tsx instead of compiled JavaScript
  --profile  write a CPU profile of remediator during the intake load (node --cpu-prof) and print its hot spots
`);
  process.exit(0);
}

const selected: readonly Part[] =
  values.only === undefined
    ? parts
    : values.only.split(',').map((name) => {
        const part = parts.find((candidate) => candidate === name.trim());
        if (!part) {
          process.stderr.write(`bench: unknown part "${name}" (parts: ${parts.join(', ')})\n`);
          process.exit(2);
        }
        return part;
      });

const log = (line: string) => {
  process.stderr.write(`${line}\n`);
};
// Ctrl-C: exit, which kills the servers the bench started (tools/harness/process.ts).
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    process.exit(130);
  });

async function main(): Promise<number> {
  const started = performance.now();
  const machine = await machineInfo();
  log(
    `bench: ${values.quick ? 'quick' : 'full'} run of ${selected.join(', ')} on ${machine.cores} × ${machine.cpu}, node ${machine.node}, redis ${machine.redis}, load average ${machine.loadAverageAtStart}`,
  );
  const needsBuild = selected.some((part) => part !== 'recovery' && part !== 'reconcile' && part !== 'switchover');
  const entrypoints = values.tsx || !needsBuild ? tsxEntrypoints() : await buildEntrypoints();
  if (needsBuild)
    log(
      `bench: remediator and the baselines run as ${entrypoints.mode === 'compiled' ? 'compiled JavaScript (node dist/main.js, as in production)' : 'TypeScript through tsx'}`,
    );
  const options: PartOptions = { quick: values.quick, log, entrypoints };
  const report: Report = { quick: values.quick, mode: entrypoints.mode, machine, parts: {} };
  let failed = false;

  for (const part of selected) {
    const partStarted = performance.now();
    log(`\n== ${part}`);
    try {
      switch (part) {
        case 'intake': {
          const cpuProfDir = values.profile ? await mkdtemp(join(tmpdir(), 'remediator-bench-profile-')) : undefined;
          const figures = await benchIntake({ ...options, ...(cpuProfDir === undefined ? {} : { cpuProfDir }) });
          if (figures.cpuProfile !== undefined) {
            const profile = await summarizeCpuProfile(figures.cpuProfile, 25);
            log(`CPU profile of remediator during the intake load: ${figures.cpuProfile} (${profile.idlePercent}% idle)`);
            for (const row of profile.functions)
              log(`  ${String(row.selfPercent).padStart(5)} % self  ${String(row.totalPercent).padStart(5)} % total  ${row.name}`);
            log('  by package (self):');
            for (const row of profile.packages.slice(0, 12)) log(`  ${String(row.selfPercent).padStart(5)} %  ${row.name}`);
          }
          report.parts.intake = figures;
          break;
        }
        case 'dispatch':
          report.parts.dispatch = await benchDispatch(options);
          break;
        case 'storm':
          report.parts.storm = await benchStorm(options);
          break;
        case 'lint':
          report.parts.lint = await benchLint(options);
          break;
        case 'reconcile':
          report.parts.reconcile = await benchReconcile(options);
          break;
        case 'recovery':
          report.parts.recovery = await benchRecovery({ quick: values.quick, log });
          break;
        case 'switchover':
          report.parts.switchover = await benchSwitchover({ quick: values.quick, log });
          break;
      }
    } catch (error) {
      failed = true;
      log(`${part}: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      report.parts[part] = { error: errorMessage(error) };
    }
    log(`== ${part}: ${Math.round((performance.now() - partStarted) / 100) / 10} s`);
  }

  report.seconds = Math.round((performance.now() - started) / 100) / 10;
  report.loadAverageAtEnd = Math.round((loadavg()[0] ?? 0) * 100) / 100;
  report.targets = targets(report);
  const table = formatTable(report);
  if (values.json) {
    log(`\n${table}`);
    process.stdout.write(
      `${JSON.stringify({ ...report.parts, targets: report.targets, machine: report.machine, quick: report.quick, mode: report.mode, seconds: report.seconds, loadAverageAtEnd: report.loadAverageAtEnd })}\n`,
    );
  } else {
    process.stdout.write(`\n${table}\n`);
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${errorMessage(error)}\n`);
    process.exit(1);
  },
);
