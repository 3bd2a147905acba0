import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { runRemediator, type RemediatorCommand } from '../harness/remediator-process.js';
import type { DemoSummary } from './demo-summary.js';
import { findLabPrograms, startLab, type Lab } from './lab.js';
import { runLabScenario } from './scenario-run.js';
import { scenarioNamed, type Scenario } from './scenarios/index.js';

export { formatDemoSummary, runDecisions } from './demo-summary.js';
export type {
  DemoEvent,
  DemoRunDecision,
  DemoSideEffects,
  DemoSkip,
  DemoStepDecision,
  DemoSummary,
  DryRunDemoSummary,
  HeldDemoSummary,
  LiveDemoSummary,
} from './demo-summary.js';

/** How the demo runs remediator itself (this same program) and where the repository's files are. */
export interface DemoOptions {
  root: string;
  self: RemediatorCommand;
  once: boolean;
  /**
   * `remediator serve` runs with DRY_RUN=1: the same scenario, the same decisions, every step recorded as
   * would-run and nothing acted on; the summary reports the decisions and the side effects seen (none).
   */
  dryRun: boolean;
  /** The fault (default: kill, with the durations); those that cut links need network namespaces. */
  scenario?: Scenario;
  /** Progress lines (stderr with --json, so stdout stays one JSON line). */
  log: (line: string) => void;
  /** Resolves when the user asks to stop (Ctrl-C); only awaited without --once. */
  stopRequested: Promise<void>;
  /** Receives the summary as soon as the recovery is measured, before the lab keeps running. */
  report: (summary: DemoSummary) => void;
  /** Prometheus' scrape and evaluation interval in the lab (default 1 s; `--scrape-interval`). */
  scrapeIntervalMs?: number;
}

const playbook = 'redis-primary-failover';
const missingPackages = (packages: string[]) =>
  `missing ${packages.join(', ')}: run \`npm run demo\` as root (it installs them), or apt-get install --no-install-recommends ${packages.join(' ')}`;

/**
 * The live lab (lab.ts): a password-protected Redis primary with two replicas, `remediator exporter`, real
 * Prometheus and Alertmanager (configs derived from prometheus/ with 1 s intervals) and `remediator serve` on its
 * embedded Redis, in a temp dir: on loopback, or for the scenarios that cut links with every member and the
 * write-probe client in a network namespace of its own (tools/harness/netns.ts). It injects the scenario's fault
 * (scenarios/), follows the alert through Alertmanager to the failover run, measures RTO as fault → first write
 * accepted by a new primary, restores, and waits until the old primary is fenced (scenario-run.ts). Every process
 * is stopped at the end. In the background, a stream cluster `cameras` (lab-streams.ts) gives the exporter stream
 * metrics for the Fleet dashboard; its member stays up throughout and no playbook acts on it.
 *
 * With `dryRun`, remediator serves with DRY_RUN=1 and the scenario is the same up to what remediator does: the
 * failover and failback runs record their steps as would-run, nothing is promoted, and the restored primary is
 * still the primary. Both modes watch ROLE on every member throughout and report what changed.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const found = await findLabPrograms();
  if (!found.found) throw new Error(missingPackages(found.missingPackages));
  const scenario = options.scenario ?? scenarioNamed('kill');
  const say = options.log;
  const adminPassword = randomBytes(8).toString('hex');
  const port = await freePort();
  const lab = await startLab({
    programs: found.programs,
    root: options.root,
    self: options.self,
    prefix: 'remediator-lab-',
    log: say,
    network: scenario.network,
    receiver: { name: 'remediator', port, start: (started) => startServe(started, options, port, adminPassword) },
    ...(options.scrapeIntervalMs === undefined ? {} : { scrapeIntervalMs: options.scrapeIntervalMs }),
  });
  const loops: (() => Promise<void>)[] = [];
  try {
    const base = `http://127.0.0.1:${port}`;
    say('waiting for remediator, the exporter, Prometheus and Alertmanager…');
    await lab.waitFor('remediator to be ready', async () => (await fetch(`${base}/readyz`)).ok, 60_000, 200);
    say('  remediator ready');
    await lab.ready();
    const urls = {
      queueUi: `${base}/queues`,
      runs: `${base}/api/runs`,
      metrics: `${base}/metrics`,
      prometheus: lab.urls.prometheus,
      alertmanager: lab.urls.alertmanager,
      exporter: lab.urls.exporter,
      streamStat: lab.urls.streamStat,
    };
    const measured = await runLabScenario(lab, scenario, {
      root: options.root,
      baseUrl: base,
      adminPassword,
      playbook,
      dryRun: options.dryRun,
      say,
      loops,
    });
    const summary: DemoSummary = { ...measured, urls: { ...urls, admin: `admin / ${adminPassword}` } };
    options.report(summary);
    if (!options.once) {
      say(
        `\nthe lab keeps running; Ctrl-C stops it\n  queue UI      ${urls.queueUi}  (admin / ${adminPassword})\n  Prometheus    ${urls.prometheus}\n  Alertmanager  ${urls.alertmanager}\n  metrics       ${urls.metrics}\n  stream        ${lab.streams.rtmpUrl}  (nginx-rtmp stat ${urls.streamStat})`,
      );
      await options.stopRequested;
    }
    return summary;
  } finally {
    await Promise.all(loops.map((stop) => stop()));
    await lab.stop();
  }
}

/** remediator serve (embedded Redis) on the lab's inventory and the shipped failover playbook. */
async function startServe(lab: Lab, options: DemoOptions, port: number, adminPassword: string): Promise<void> {
  await writeFile(
    join(lab.remediations, `${playbook}.yaml`),
    await readFile(join(options.root, 'remediations', `${playbook}.yaml`), 'utf8'),
  );
  // A drill whose schedule does not come during a demo (29 February, one minute): it must not switch the cluster
  // over in the middle of a scenario, and its metrics fill the Drills row of the Recovery dashboard.
  await writeFile(
    join(lab.remediations, 'drills.yaml'),
    "drills:\n  - { name: cache-leap-day, cluster: cache, schedule: '0 4 29 2 *', kind: switchover, window: 1m }\n",
  );
  lab.keep(
    runRemediator(
      ['serve'],
      {
        LOG_LEVEL: 'warn',
        PORT: String(port),
        DATA_DIR: join(lab.dir, 'remediator'),
        REMEDIATIONS_DIR: lab.remediations,
        PROMETHEUS_URL: lab.urls.prometheus,
        // The reconcile loop reads the lab's Alertmanager: a notification lost in a scenario is still acted on.
        ALERTMANAGER_URL: lab.urls.alertmanager,
        WEBHOOK_TOKEN_FILE: lab.tokenFile,
        ADMIN_PASSWORD: adminPassword,
        ...(options.dryRun ? { DRY_RUN: '1' } : {}),
      },
      { command: options.self, cwd: options.root },
    ),
  );
}
