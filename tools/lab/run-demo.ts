import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { sleep } from '../../src/util/sleep.js';
import { runRemediator, type RemediatorCommand } from '../harness/remediator-process.js';
import { runDecisions, type DemoEvent, type DemoRunView, type DemoSideEffects, type DemoSummary } from './demo-summary.js';
import { findLabPrograms, labMembers as members, startLab, type Lab } from './lab.js';
import { labRuns, readPrimaryRecord } from './lab-runs.js';
import { describeRole, readRole, watchMembers, type WatchedMember } from './member-watch.js';
import { startWriteProbe } from './write-probe.js';

export { formatDemoSummary, runDecisions } from './demo-summary.js';
export type {
  DemoEvent,
  DemoRunDecision,
  DemoSideEffects,
  DemoStepDecision,
  DemoSummary,
  DryRunDemoSummary,
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
 * embedded Redis, all on loopback in a temp dir. It kills the primary, follows the alert through Alertmanager to
 * the failover run, measures RTO as fault → first write accepted by the new primary, then revives the old primary
 * and waits until it is fenced. Every process is stopped at the end. In the background, a stream cluster `cameras`
 * (lab-streams.ts: nginx-rtmp, one ffmpeg camera and one reader) gives the exporter stream metrics for the Fleet
 * dashboard; its member stays up throughout and no playbook acts on it.
 *
 * With `dryRun`, remediator serves with DRY_RUN=1 and the scenario is the same up to what remediator does: the
 * failover and failback runs record their steps as would-run, nothing is promoted, and the revived primary is
 * still the primary. Both modes watch ROLE on every member throughout and report what changed.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const found = await findLabPrograms();
  if (!found.found) throw new Error(missingPackages(found.missingPackages));
  const say = options.log;
  const adminPassword = randomBytes(8).toString('hex');
  const port = await freePort();
  const lab = await startLab({
    programs: found.programs,
    root: options.root,
    self: options.self,
    prefix: 'remediator-lab-',
    log: say,
    receiver: { name: 'remediator', port, start: (started) => startServe(started, options, port, adminPassword) },
    ...(options.scrapeIntervalMs === undefined ? {} : { scrapeIntervalMs: options.scrapeIntervalMs }),
  });
  // Polling loops (write probe, role watch), stopped in `finally` too: a failed demo must still exit.
  const loops: (() => Promise<void>)[] = [];
  try {
    return await runScenario(lab, options, { port, adminPassword, loops });
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
  lab.keep(
    runRemediator(
      ['serve'],
      {
        LOG_LEVEL: 'warn',
        PORT: String(port),
        DATA_DIR: join(lab.dir, 'remediator'),
        REMEDIATIONS_DIR: lab.remediations,
        PROMETHEUS_URL: lab.urls.prometheus,
        WEBHOOK_TOKEN_FILE: lab.tokenFile,
        ADMIN_PASSWORD: adminPassword,
        ...(options.dryRun ? { DRY_RUN: '1' } : {}),
      },
      { command: options.self, cwd: options.root },
    ),
  );
}

/** The scenario on a started lab: the fault, the failover, the revival of the old primary, the summary. */
async function runScenario(
  lab: Lab,
  options: DemoOptions,
  serve: { port: number; adminPassword: string; loops: (() => Promise<void>)[] },
): Promise<DemoSummary> {
  const say = options.log;
  const { adminPassword, loops } = serve;
  const base = `http://127.0.0.1:${serve.port}`;
  const urls = {
    queueUi: `${base}/queues`,
    runs: `${base}/api/runs`,
    metrics: `${base}/metrics`,
    prometheus: lab.urls.prometheus,
    alertmanager: lab.urls.alertmanager,
    exporter: lab.urls.exporter,
    streamStat: lab.urls.streamStat,
  };
  say('waiting for remediator, the exporter, Prometheus and Alertmanager…');
  await lab.waitFor('remediator to be ready', async () => (await fetch(`${base}/readyz`)).ok, 60_000, 200);
  say('  remediator ready');
  await lab.ready();

  // The write probe: every 50 ms, try a write on every member; remember when each first succeeds. The role watch
  // polls ROLE on every member: promotions, fences and repointed replicas, the side effects of a run.
  const probe = startWriteProbe(
    lab.members.map((member) => ({ name: member.name, client: member.probe })),
    { key: 'remediator:demo:probe' },
  );
  const watched: WatchedMember[] = lab.members.map((member) => ({
    name: member.name,
    address: member.address,
    client: lab.client(member.name),
  }));
  const watch = watchMembers(watched);
  loops.push(
    () => probe.stop(),
    () => watch.stop(),
  );
  const roleOf = (name: string) => {
    const member = watched.find((candidate) => candidate.name === name);
    return member ? readRole(member, watched) : Promise.resolve(undefined);
  };
  const runsApi = labRuns({ lab, baseUrl: base, adminPassword, playbook });

  // The fault.
  const faultAt = Date.now();
  const events: DemoEvent[] = [];
  const note = (what: string, at: number) => {
    events.push({ at: new Date(at).toISOString(), seconds: Math.round((at - faultAt) / 10) / 100, what });
  };
  say('FAULT: SIGKILL of the primary cache-a');
  await lab.crash('cache-a');
  note('fault: cache-a (primary) killed', faultAt);

  const noteSteps = (run: DemoRunView, prefix: string) => {
    for (const step of run.steps) if (step.finishedAt) note(`${prefix}step ${step.name} ${step.status}`, Date.parse(step.finishedAt));
  };
  const failover = await runsApi.finished('remediate', 180_000);
  if (failover.state !== 'completed') throw new Error(`the failover run ${failover.id} failed: ${JSON.stringify(failover.steps)}`);
  note('alert firing (Prometheus startsAt)', Date.parse(failover.timeline.alertStartsAt));
  note('webhook received from Alertmanager', Date.parse(failover.timeline.receivedAt));
  if (failover.timeline.startedAt) note('run started', Date.parse(failover.timeline.startedAt));
  noteSteps(failover, '');

  let recovery: { newPrimary: (typeof members)[number]; firstWrite: number } | undefined;
  if (options.dryRun) {
    // A live promotion lands within milliseconds of the step and its verify within a second or two: watching
    // a little longer shows that nothing is on its way either.
    await sleep(2000);
    const roles = await Promise.all(['cache-b', 'cache-c'].map(async (name) => `${name} ${describeRole(await roleOf(name))}`));
    note(`dry run: nothing promoted: ${roles.join(', ')}`, Date.now());
    say(`dry run: the failover run would have run ${failover.steps.map((step) => step.name).join(', ')}; ${roles.join(', ')}`);
  } else {
    const newPrimary = await lab.waitFor(
      'a new primary to accept a write',
      () => members.find((name) => name !== 'cache-a' && probe.writesAfter(name, faultAt).length > 0),
      30_000,
      50,
    );
    const firstWrite = probe.writesAfter(newPrimary, faultAt)[0] ?? Date.now();
    recovery = { newPrimary, firstWrite };
    note(`first write accepted by ${newPrimary}`, firstWrite);
    say(`failover done: ${newPrimary} is primary`);
  }

  // The old primary comes back: the resolved alert's failback fences it (a dry run only says it would).
  say(
    options.dryRun
      ? 'reviving cache-a: with nothing promoted it is still the primary, and the failback run only would fence it'
      : 'reviving cache-a: it must come back as a replica, not a second primary',
  );
  const revivedAt = Date.now();
  await lab.revive('cache-a');
  note('cache-a restarted', revivedAt);
  let fencedAt: number | undefined;
  let failback: DemoRunView | undefined;
  let oldPrimaryStillPrimary = false;
  if (options.dryRun) {
    failback = await runsApi.finished('failback', 120_000);
    // Nothing acted, so the cluster is as it was before the fault once the replicas have re-linked.
    const healedAt = await lab
      .waitFor(
        'cache-a to be primary again with both replicas linked to it',
        async () => {
          const roles = await Promise.all(members.map((name) => roleOf(name)));
          const healed =
            roles[0]?.role === 'primary' &&
            roles.slice(1).every((role) => role?.role === 'replica' && role.primary === 'cache-a' && role.linked);
          return healed ? Date.now() : undefined;
        },
        30_000,
        100,
      )
      .catch(() => undefined);
    oldPrimaryStillPrimary = healedAt !== undefined;
    if (healedAt !== undefined) note('cache-a primary again, cache-b and cache-c re-linked to it (nothing changed)', healedAt);
  } else {
    fencedAt = await lab
      .waitFor(
        'cache-a to be fenced',
        async () => ((await lab.info('cache-a'))?.get('role') === 'slave' ? Date.now() : undefined),
        120_000,
        100,
      )
      .catch(() => undefined);
    if (fencedAt !== undefined) note('cache-a fenced (now a replica)', fencedAt);
    // Its decisions are part of the summary: let the fence step finish (its verify waits for the link).
    failback = await runsApi.finished('failback', 60_000).catch(() => undefined);
  }
  await Promise.all(loops.map((stop) => stop()));

  const runs = await runsApi.all();
  // The fence came from PrimaryUnreachable resolving for cache-a: its resolved notification started the failback run.
  failback ??= runs.find((run) => run.playbook === playbook && run.phase === 'failback');
  if (failback) {
    note('PrimaryUnreachable resolved for cache-a (webhook received)', Date.parse(failback.timeline.receivedAt));
    noteSteps(failback, 'failback ');
  }
  const changes = watch.changes();
  const sideEffects: DemoSideEffects = {
    promotions: changes.promoted.length,
    promoted: changes.promoted,
    demotions: changes.demoted.length,
    demoted: changes.demoted,
    repointed: changes.repointed,
    writesOnOtherMembers: members
      .filter((name) => name !== 'cache-a')
      .reduce((count, name) => count + probe.writesAfter(name, faultAt).length, 0),
    primaryRecord: await readPrimaryRecord(join(lab.dir, 'remediator')),
    roleSamples: changes.samples,
  };
  const finalRoles = Object.fromEntries(await Promise.all(members.map(async (name) => [name, describeRole(await roleOf(name))] as const)));
  events.sort((a, b) => a.seconds - b.seconds);
  const common = {
    oldPrimary: 'cache-a',
    runId: failover.id,
    failoverRuns: runs.filter((run) => run.playbook === playbook && run.phase === 'remediate').length,
    alertFromAlertmanager: failover.receiver === 'remediator',
    detectionSeconds: (Date.parse(failover.timeline.receivedAt) - faultAt) / 1000,
    dispatchSeconds:
      ((failover.timeline.startedAt ? Date.parse(failover.timeline.startedAt) : Number.NaN) - Date.parse(failover.timeline.receivedAt)) /
      1000,
    steps: failover.steps.map((step) => ({ name: step.name, status: step.status, durationMs: step.durationMs })),
    runs: runDecisions(runs.filter((run) => run.playbook === playbook)),
    sideEffects,
    finalRoles,
    events,
    urls: { ...urls, admin: `admin / ${adminPassword}` },
  };
  let summary: DemoSummary;
  if (recovery) {
    const accepts = await lab
      .member(recovery.newPrimary)
      .probe.set('remediator:demo:after', '1')
      .then(
        () => true,
        () => false,
      );
    summary = {
      mode: 'live',
      dryRun: false,
      rtoSeconds: (recovery.firstWrite - faultAt) / 1000,
      newPrimary: recovery.newPrimary,
      newPrimaryAcceptsWrites: accepts,
      oldPrimaryFenced: fencedAt !== undefined,
      ...common,
    };
  } else {
    summary = {
      mode: 'dry-run',
      dryRun: true,
      rtoSeconds: null,
      rtoNote: 'A dry run promotes nothing, so nothing recovers: the cluster had no primary until cache-a was restarted.',
      oldPrimaryStillPrimary,
      ...common,
    };
  }
  options.report(summary);
  if (!options.once) {
    say(
      `\nthe lab keeps running; Ctrl-C stops it\n  queue UI      ${urls.queueUi}  (admin / ${adminPassword})\n  Prometheus    ${urls.prometheus}\n  Alertmanager  ${urls.alertmanager}\n  metrics       ${urls.metrics}\n  stream        ${lab.streams.rtmpUrl}  (nginx-rtmp stat ${urls.streamStat})`,
    );
    await options.stopRequested;
  }
  return summary;
}
