import { fileURLToPath } from 'node:url';
import type { DevTools } from '../src/cli/dev-tools.js';
import { errorMessage } from '../src/core/errors/index.js';
import { NetnsUnavailableError } from './harness/netns.js';
import { formatDemoSummary, runDemo } from './lab/run-demo.js';
import { scenarioNamed, scenarioNames, type ScenarioName } from './lab/scenarios/index.js';
import { lintDirectory } from './lint/index.js';
import { runPlaybookTests } from './playbook-tests/test-command.js';
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
    if (!(scenarioNames as readonly string[]).includes(options.scenario)) {
      io.stderr.write(`remediator demo: no scenario ${options.scenario}: ${scenarioNames.join(', ')}\n`);
      return 2;
    }
    try {
      await runDemo({
        scenario: scenarioNamed(options.scenario as ScenarioName),
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
      if (error instanceof NetnsUnavailableError) {
        // Not a failure of the lab: this machine cannot partition it (the kill, pause and blip scenarios still run).
        io.stderr.write(
          `remediator demo: the ${options.scenario} scenario cuts network links and needs network namespaces: ${error.message}\n`,
        );
        return 2;
      }
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

  /** `remediator slo generate`: rules/slos.yaml and Sloth specs → rules/slo.rules.yml; --check exits 1 when the file is stale. */
  sloGenerate(options, io) {
    return runSloGenerate(options, io);
  },

  /** `remediator test FILE…`: playbook tests against throwaway redis-server and Prometheus; exit 1 with a diff on failure. */
  test(files, io) {
    return runPlaybookTests(files, io);
  },
};
