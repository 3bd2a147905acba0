import { fileURLToPath } from 'node:url';
import type { DevTools } from '../src/cli/dev-tools.js';
import { errorMessage } from '../src/core/errors/index.js';
import { formatDemoSummary, runDemo } from './lab/run-demo.js';
import { lintDirectory } from './lint/index.js';
import { runSloGenerate } from './slo/generate-command.js';

/** The dev-time commands, loaded by src/cli/dev-tools.ts only when one of them runs. */
export const devTools: DevTools = {
  /** `remediator lint [dir]`: offline, no environment needed; problems on stdout, exit 1 if there is one. */
  async lint(dir, io) {
    const report = await lintDirectory(dir ?? '.', io.cwd);
    for (const line of report.lines) io.stdout.write(`${line}\n`);
    if (report.ok) return 0;
    io.stderr.write(`lint: ${report.result.problems.length} problem${report.result.problems.length === 1 ? '' : 's'}\n`);
    return 1;
  },

  async demo(options, io) {
    const log = (line: string) => (options.json ? io.stderr : io.stdout).write(`${line}\n`);
    try {
      await runDemo({
        root: fileURLToPath(new URL('..', import.meta.url)),
        self: io.self,
        once: options.once,
        dryRun: options.dryRun,
        scrapeIntervalMs: options.scrapeInterval,
        log,
        stopRequested: io.stopRequested,
        report: (summary) => {
          io.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `${formatDemoSummary(summary)}\n`);
        },
      });
      return 0;
    } catch (error) {
      io.stderr.write(`remediator demo: ${errorMessage(error)}\n`);
      return 1;
    }
  },

  /** `remediator dashboards generate`: writes grafana/dashboards/*.json, or with --check reports what differs (exit 1). */
  async dashboardsGenerate(options, io) {
    // Loaded here only: the Grafana SDK is needed by this command alone.
    const { checkDashboards, upToDate, writeDashboards } = await import('./dashboards/generate-dashboards.js');
    if (!options.check) {
      const names = await writeDashboards(options.out);
      io.stdout.write(`wrote ${names.length} dashboards to ${options.out}: ${names.join(', ')}\n`);
      return 0;
    }
    const drift = await checkDashboards(options.out);
    if (upToDate(drift)) {
      io.stdout.write(`${options.out} is up to date\n`);
      return 0;
    }
    for (const [what, names] of Object.entries(drift)) for (const name of names) io.stderr.write(`${what}: ${options.out}/${name}\n`);
    io.stderr.write('run `remediator dashboards generate` and commit the result\n');
    return 1;
  },

  /** `remediator slo generate`: rules/slos.yaml → rules/slo.rules.yml; --check exits 1 when the file is stale. */
  sloGenerate(options, io) {
    return runSloGenerate(options, io);
  },
};
