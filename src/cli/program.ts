import { Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '../core/duration.js';
import { parsePairs, type AdminRequest } from './admin-client.js';

/** Options of `remediator serve`. */
export interface ServeOptions {
  api: boolean;
  worker: boolean;
}

/** Options of `remediator exporter`; absent ones come from the environment (EXPORTER_PORT, HOST). */
export interface ExporterOptions {
  port?: number;
  host?: string;
}

/** What the commands do; supplied by the composition root. */
export interface CommandHandlers {
  serve(options: ServeOptions): Promise<void>;
  exporter(options: ExporterOptions): Promise<void>;
  validate(dir: string | undefined): Promise<void>;
  lint(dir: string | undefined): Promise<void>;
  schema(): Promise<void>;
  demo(options: DemoCommandOptions): Promise<void>;
  dashboardsGenerate(options: DashboardsGenerateOptions): Promise<void>;
  sloGenerate(options: SloGenerateOptions): Promise<void>;
  /** Runs playbook tests (remediations/tests/*.yaml) through the simulator; exit 1 with a diff when one fails. */
  test(files: string[]): Promise<void>;
  /** Calls a running remediator's admin API (REMEDIATOR_URL, ADMIN_USER, ADMIN_PASSWORD) and prints the answer. */
  admin(request: AdminRequest): Promise<void>;
  /** Reads one password line on stdin and prints its hash for USERS_FILE. */
  hashPassword(): Promise<void>;
}

/** Options of `remediator dashboards generate`. */
export interface DashboardsGenerateOptions {
  /** Directory of the dashboard JSON files (Grafana's file provider reads them). */
  out: string;
  /** Write nothing; exit 1 when the files there differ from the generated ones. */
  check: boolean;
}

/** Options of `remediator slo generate`. */
export interface SloGenerateOptions {
  /** The SLO specs: files or directories of them (Sloth's -i), rules/slos.yaml when none is given. */
  input: string[];
  /** One more input (the option before --input existed). */
  slos?: string | undefined;
  /** The generated rule file (default rules/slo.rules.yml): every input's rules in one file. */
  out: string;
  /** Write nothing; exit 1 when `out` is not what the inputs generate. */
  check: boolean;
  /** Sloth's --extra-labels: added to every recorded series. */
  extraLabels: Record<string, string>;
  /** Sloth's --default-slo-period, for Sloth specs (they have no period of their own): a Prometheus duration, 30d. */
  defaultSloPeriod: string;
  /** Sloth's --slo-period-windows-path: a directory of AlertWindows files, which replace the built-in tables. */
  sloPeriodWindowsPath?: string | undefined;
}

/** Options of `remediator demo`. */
export interface DemoCommandOptions {
  once: boolean;
  json: boolean;
  /** `remediator serve` with DRY_RUN=1: the same scenario and decisions, nothing acted on. */
  dryRun: boolean;
  /** Prometheus' scrape and rule evaluation interval in the lab, in ms (`--scrape-interval`, default 1 s). */
  scrapeInterval: number;
  /** The fault (tools/lab/scenarios/: kill, pause, blip, partition-remediator, isolate-primary, lossy). */
  scenario: string;
}

/** The command-line interface. Configuration comes from the environment (see docs/configuration.md). */
export function createProgram(handlers: CommandHandlers, version: string): Command {
  const program = new Command('remediator')
    .description('Turns Prometheus alerts into safe, verified failover.')
    .version(version)
    .showHelpAfterError();
  program
    .command('serve')
    .description('run the webhook API and the worker (configured by environment variables)')
    .addOption(new Option('--no-api', 'run only the worker (no HTTP listener)'))
    .addOption(new Option('--no-worker', 'run only the HTTP API (runs are executed by other processes)'))
    .action((options: ServeOptions) => handlers.serve(options));
  program
    .command('exporter')
    .description('serve /metrics with the health and replication of every inventory member, probed at scrape time')
    .addOption(new Option('--port <n>', 'port to listen on (default: EXPORTER_PORT or 9105)').argParser(parsePort))
    .addOption(new Option('--host <host>', 'address to listen on (default: HOST or 127.0.0.1)'))
    .action((options: ExporterOptions) => handlers.exporter(options));
  program
    .command('hash-password')
    .description('read one password line on stdin and print its scrypt hash, for the passwordHash of a user in USERS_FILE')
    .action(() => handlers.hashPassword());
  program
    .command('validate')
    .description('load and check the playbooks, print every problem, exit 1 if there is one')
    .argument('[dir]', 'the remediations directory (default: REMEDIATIONS_DIR or ./remediations)')
    .action((dir: string | undefined) => handlers.validate(dir));
  program
    .command('lint')
    .description(
      'check rules/, remediations/ and grafana/dashboards/ together, offline: PromQL syntax, playbooks ↔ alerts, known metrics, the all-down pitfall; exit 1 on any problem',
    )
    .argument('[dir]', 'the project directory (default: the current directory)')
    .action((dir: string | undefined) => handlers.lint(dir));
  program
    .command('test')
    .description(
      'run playbook tests (like promtool test rules): alerts at given times, Prometheus series for the guards, the budget state, and the runs each alert should make; offline, with throwaway redis-server and Prometheus; exit 1 with a diff when one fails',
    )
    .argument('[files...]', 'the test files, or directories of them (e.g. remediations/tests)')
    .action((files: string[]) => handlers.test(files));
  program
    .command('demo')
    .description(
      'the live lab: Redis primary + 2 replicas, exporter, Prometheus, Alertmanager and remediator; injects a fault (by default kills the primary) and shows the failover with its RTO',
    )
    .option(
      '--scenario <name>',
      'the fault: kill (SIGKILL of the primary, on loopback), pause (SIGSTOP 40 s), blip (SIGSTOP 3 s: no failover), and in network namespaces (root) partition-remediator (remediator loses the primary, its replicas keep it: no failover), isolate-primary (the primary loses everyone: one failover), lossy (30 % loss, 200 ms between remediator and the primary for 60 s: no failover)',
      'kill',
    )
    .option('--once', 'exit after the recovery instead of running until Ctrl-C', false)
    .option('--json', 'print the summary as one JSON line on stdout (progress goes to stderr)', false)
    .option(
      '--dry-run',
      'run remediator with DRY_RUN=1: the same alerts, playbooks and rendered steps, recorded as would-run; nothing is promoted or fenced, and the summary lists the decisions and the side effects seen (none)',
      false,
    )
    .addOption(
      new Option(
        '--scrape-interval <duration>',
        "Prometheus' scrape and rule evaluation interval in the lab (e.g. 5s, 15s: what deployments run); detection and RTO follow it",
      )
        .argParser(parseScrapeInterval)
        .default(1000, '1s'),
    )
    .action((options: DemoCommandOptions) => handlers.demo(options));
  program
    .command('dashboards')
    .description('Grafana dashboards (generated from tools/dashboards)')
    .command('generate')
    .description('write the dashboards as JSON files for Grafana provisioning, or check that they are up to date')
    .option('--out <dir>', 'directory of the dashboard files', 'grafana/dashboards')
    .option('--check', 'write nothing; exit 1 if a file is missing, stale or no longer generated', false)
    .action((options: DashboardsGenerateOptions) => handlers.dashboardsGenerate(options));
  program
    .command('slo')
    .description('SLOs and error budgets (rules/slos.yaml)')
    .command('generate')
    .description(
      'write the Sloth-compatible SLO recording rules and burn-rate alerts, or check that they are up to date; reads rules/slos.yaml and Sloth specs (prometheus/v1, PrometheusServiceLevel)',
    )
    .addOption(
      new Option('-i, --input <path>', "an SLO spec file, or a directory of them (repeat it), as Sloth's -i")
        .argParser(collectInputs)
        .default([], 'rules/slos.yaml'),
    )
    .option('--slos <file>', 'the same as --input')
    .option('--out <file>', 'the generated rule file, holding the rules of every input', 'rules/slo.rules.yml')
    .option('--check', 'write nothing; exit 1 if the rule file is missing or stale', false)
    .option(
      '-l, --extra-labels <name=value>',
      "a label added to every recorded series, as Sloth's --extra-labels (repeat it)",
      parseLabelPair,
      {},
    )
    .option('--default-slo-period <duration>', "the period of Sloth specs' SLOs, as Sloth's --default-slo-period", '30d')
    .option(
      '--slo-period-windows-path <dir>',
      'a directory of Sloth AlertWindows files (burn-rate tables per period); they replace the built-in 30d, 28d and 7d ones, as in Sloth',
    )
    .action((options: SloGenerateOptions) => handlers.sloGenerate(options));
  const collect = (value: string, previous: string[]) => [...previous, value];
  program
    .command('hold')
    .description('hold a target: its runs are skipped with the reason until the hold ends (calls the admin API of REMEDIATOR_URL)')
    .argument('<target>', "the target, as the playbook's target: renders it (e.g. the cluster)")
    .requiredOption('--ttl <duration>', 'how long (e.g. 30m, 2h; at most 7d)')
    .requiredOption('--reason <text>', 'why, shown in the skipped runs and the audit')
    .action((target: string, options: { ttl: string; reason: string }) =>
      handlers.admin({ method: 'POST', path: '/api/holds', body: { target, ttl: options.ttl, reason: options.reason } }),
    );
  program
    .command('unhold')
    .description('release the hold on a target')
    .argument('<target>')
    .action((target: string) => handlers.admin({ method: 'DELETE', path: `/api/holds/${encodeURIComponent(target)}` }));
  program
    .command('holds')
    .description('list the holds in force')
    .action(() => handlers.admin({ method: 'GET', path: '/api/holds' }));
  program
    .command('run')
    .description('start a run of one playbook by hand: a firing alert with these labels, through the same intake, marked manual')
    .argument('<playbook>')
    .option('--label <name=value>', 'an alert label (repeat it)', collect, [])
    .option('--annotation <name=value>', 'an alert annotation (repeat it)', collect, [])
    .action((playbook: string, options: { label: string[]; annotation: string[] }) =>
      handlers.admin({
        method: 'POST',
        path: `/api/playbooks/${encodeURIComponent(playbook)}/run`,
        body: { labels: parsePairs(options.label, '--label'), annotations: parsePairs(options.annotation, '--annotation') },
      }),
    );
  program
    .command('budget-reset')
    .description("clear a playbook's cooldown and run count on a target (after a flap was looked into)")
    .argument('<playbook>')
    .argument('<target>')
    .action((playbook: string, target: string) =>
      handlers.admin({ method: 'POST', path: `/api/budgets/${encodeURIComponent(playbook)}/${encodeURIComponent(target)}/reset` }),
    );
  program
    .command('pause')
    .description('the kill switch: no new step starts until resume')
    .action(() => handlers.admin({ method: 'POST', path: '/api/pause' }));
  program
    .command('resume')
    .description('lift the kill switch')
    .action(() => handlers.admin({ method: 'POST', path: '/api/resume' }));
  program
    .command('retry')
    .description('retry a failed run from its checkpoint (the steps that succeeded are not run again)')
    .argument('<run>', 'the run id (job id)')
    .action((run: string) => handlers.admin({ method: 'POST', path: `/api/runs/${encodeURIComponent(run)}/retry` }));
  for (const decision of ['approve', 'reject'] as const)
    program
      .command(decision)
      .description(`${decision} a run waiting for approval`)
      .argument('<run>', 'the run id (job id)')
      .option('--comment <text>', 'why, kept with the decision')
      .action((run: string, options: { comment?: string }) =>
        handlers.admin({
          method: 'POST',
          path: `/api/runs/${encodeURIComponent(run)}/${decision}`,
          body: options.comment === undefined ? {} : { comment: options.comment },
        }),
      );
  program
    .command('switchover')
    .description(
      'planned switchover of a Redis or PostgreSQL cluster: the primary hands over to a caught-up replica, no acknowledged write lost',
    )
    .argument('<cluster>')
    .option('--to <member>', 'the member to promote (default: the best caught-up one)')
    .option('--at <time>', 'when, as an RFC 3339 time (within 7 days; default now)')
    .option('--wait', 'wait for the run to end and print it; exit 1 unless it switched over', false)
    .option('--cancel', 'withdraw a switchover that has not started', false)
    .action((cluster: string, options: { to?: string; at?: string; wait: boolean; cancel: boolean }) =>
      handlers.admin(
        options.cancel
          ? { method: 'DELETE', path: `/api/clusters/${encodeURIComponent(cluster)}/switchover` }
          : {
              method: 'POST',
              path: `/api/clusters/${encodeURIComponent(cluster)}/switchover`,
              body: { ...(options.to === undefined ? {} : { to: options.to }), ...(options.at === undefined ? {} : { at: options.at }) },
              follow: options.wait,
            },
      ),
    );
  program
    .command('audit')
    .description('the operator actions, newest first')
    .option('--limit <n>', 'how many', '50')
    .action((options: { limit: string }) =>
      handlers.admin({ method: 'GET', path: `/api/audit?limit=${encodeURIComponent(options.limit)}` }),
    );
  program
    .command('schema')
    .description('print the JSON Schema of playbook files (remediations/playbook.schema.json is this output)')
    .action(() => handlers.schema());
  return program;
}

function parseScrapeInterval(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000 || ms > 60_000) throw new InvalidArgumentError('must be a duration from 1s to 1m (e.g. 5s)');
  return ms;
}

function collectInputs(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseLabelPair(text: string, previous: Record<string, string>): Record<string, string> {
  const match = /^([a-zA-Z_][a-zA-Z0-9_]*)=(.*)$/.exec(text);
  if (match === null) throw new InvalidArgumentError('must be name=value with a Prometheus label name (e.g. team=core)');
  return { ...previous, [match[1] ?? '']: match[2] ?? '' };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}
