import { join } from 'node:path';
import { sleep } from '../../src/util/sleep.js';
import { waitFor } from '../harness/wait.js';
import { runDecisions, type DemoEvent, type DemoRunView, type DemoSideEffects, type DemoSummary } from './demo-summary.js';
import { labMembers as members, type Lab } from './lab.js';
import { labRuns, readPrimaryRecord } from './lab-runs.js';
import { describeRole, readRole, watchMembers, type WatchedMember } from './member-watch.js';
import { startProbeAgent } from './probe-agent.js';
import { primariesSeenAtOnce, writesAcceptedByStalePrimary } from './scenario-metrics.js';
import { firstPrimary, type Scenario } from './scenarios/scenario.js';

/** What the scenario needs of the demo: remediator's API, the playbook, the mode, where to log. */
export interface ScenarioRunOptions {
  root: string;
  baseUrl: string;
  adminPassword: string;
  playbook: string;
  dryRun: boolean;
  say: (line: string) => void;
  /** Polling loops and the probe, stopped by the demo in `finally` too: a failed demo must still exit. */
  loops: (() => Promise<void>)[];
}

const failoverWaitMs = 180_000; // the alert (for: 15 s), Alertmanager, the run and its verify, on a busy machine
const fenceWaitMs = 120_000;

/**
 * The scenario on a started, ready lab: the fault, held until its outcome (`holdUntil`) and its duration, the
 * restore, then the fence of the old primary when a member took over (or `settleMs` of watching when none did).
 * The write probe runs as the lab's client throughout and ROLE is watched on every member; the summary is measured,
 * whatever the scenario expected.
 */
export async function runLabScenario(lab: Lab, scenario: Scenario, options: ScenarioRunOptions): Promise<DemoSummary> {
  const { say, loops } = options;
  const probe = await startProbeAgent(lab, { root: options.root, key: 'remediator:demo:probe' });
  const watched: WatchedMember[] = lab.members.map((member) => ({
    name: member.name,
    address: member.address,
    client: lab.client(member.name),
  }));
  const watch = watchMembers(watched, 50);
  loops.push(
    () => probe.stop(),
    () => watch.stop(),
  );
  const runsApi = labRuns({ lab, baseUrl: options.baseUrl, adminPassword: options.adminPassword, playbook: options.playbook });
  const failoverRuns = async () => (await runsApi.all()).filter((run) => run.playbook === options.playbook && run.phase === 'remediate');
  const ended = (run: DemoRunView) => run.state === 'completed' || run.state === 'failed';

  const faultAt = Date.now();
  const events: DemoEvent[] = [];
  const note = (what: string, at: number) => {
    events.push({ at: new Date(at).toISOString(), seconds: Math.round((at - faultAt) / 10) / 100, what });
  };
  say(`FAULT (${scenario.name}): ${scenario.fault}`);
  await scenario.inject(lab);
  note(`fault: ${scenario.fault}`, faultAt);

  const newPrimary = () => members.find((name) => name !== firstPrimary && probe.writesAfter(name, faultAt).length > 0);
  // A dry run promotes nothing: its failover ends with the run.
  const holdUntil = options.dryRun && scenario.holdUntil === 'failover' ? 'run' : scenario.holdUntil;
  if (holdUntil === 'failover') {
    const failover = await runsApi.finished('remediate', failoverWaitMs);
    // A run that did not fail over is part of the measurement, not an error of the demo.
    if (failover.state === 'completed' && !failover.skip) await lab.waitFor('a new primary to accept a write', newPrimary, 30_000, 50);
    else
      say(
        `the failover run ${failover.id} did not fail over (${failover.state}${failover.skip ? `, skipped: ${failover.skip.reason}` : ''})`,
      );
  } else if (holdUntil === 'run') {
    await lab.waitFor('the failover run to end', async () => (await failoverRuns()).find(ended), failoverWaitMs, 250);
  }
  const heldFor = Date.now() - faultAt;
  if (heldFor < scenario.durationMs) await sleep(scenario.durationMs - heldFor); // the fault's own length
  const restoredAt = Date.now();
  say(`RESTORE: ${scenario.restored}`);
  await scenario.restore(lab);
  note(scenario.restored, restoredAt);

  let fencedAt: number | undefined;
  let tookOver = newPrimary();
  if (tookOver === undefined) {
    // Absence is what is measured here: watch for a while so that a late run or promotion would show.
    if (options.dryRun) await runsApi.finished('failback', 120_000).catch(() => undefined);
    await sleep(scenario.settleMs);
    tookOver = newPrimary();
  }
  if (tookOver !== undefined) {
    note(`first write accepted by ${tookOver}`, probe.writesAfter(tookOver, faultAt)[0] ?? restoredAt);
    say(`failover done: ${tookOver} is primary; ${firstPrimary} must come back fenced, not as a second primary`);
    fencedAt = await lab
      .waitFor(
        `${firstPrimary} to be fenced`,
        async () => ((await lab.info(firstPrimary))?.get('role') === 'slave' ? Date.now() : undefined),
        fenceWaitMs,
        100,
      )
      .catch(() => undefined);
    if (fencedAt !== undefined) note(`${firstPrimary} fenced (now a replica)`, fencedAt);
    // Its decisions are part of the summary: let the fence step finish (its verify waits for the link).
    await runsApi.finished('failback', 60_000).catch(() => undefined);
  }
  await Promise.all(loops.map((stop) => stop()));

  const runs = (await runsApi.all()).filter((run) => run.playbook === options.playbook);
  const remediate = runs
    .filter((run) => run.phase === 'remediate')
    .sort((a, b) => Date.parse(a.timeline.receivedAt) - Date.parse(b.timeline.receivedAt));
  const failover = remediate[0];
  const failback = runs.find((run) => run.phase === 'failback');
  const noteSteps = (run: DemoRunView, prefix: string) => {
    for (const step of run.steps) if (step.finishedAt) note(`${prefix}step ${step.name} ${step.status}`, Date.parse(step.finishedAt));
  };
  if (failover) {
    note('alert firing (Prometheus startsAt)', Date.parse(failover.timeline.alertStartsAt));
    note('webhook received from Alertmanager', Date.parse(failover.timeline.receivedAt));
    if (failover.timeline.startedAt) note('run started', Date.parse(failover.timeline.startedAt));
    if (failover.skip)
      note(`run skipped (${failover.skip.kind})`, Date.parse(failover.timeline.finishedAt ?? failover.timeline.receivedAt));
    noteSteps(failover, '');
  }
  if (failback) {
    note(
      `${String(failback.alert.labels.alertname)} resolved for ${firstPrimary} (webhook received)`,
      Date.parse(failback.timeline.receivedAt),
    );
    noteSteps(failback, 'failback ');
  }
  const changes = watch.changes();
  const rounds = probe.rounds();
  const sideEffects: DemoSideEffects = {
    promotions: changes.promoted.length,
    promoted: changes.promoted,
    demotions: changes.demoted.length,
    demoted: changes.demoted,
    repointed: changes.repointed,
    writesOnOtherMembers: members
      .filter((name) => name !== firstPrimary)
      .reduce((count, name) => count + probe.writesAfter(name, faultAt).length, 0),
    primaryRecord: await readPrimaryRecord(join(lab.dir, 'remediator')),
    roleSamples: changes.samples,
  };
  // On a fresh connection: the watch's connection to a member that was cut off may wait out TCP's retransmission
  // backoff (seconds) after the link is back.
  const fresh = watched.map((member) => ({ ...member, client: lab.client(member.name) }));
  const settledRole = (name: string) => {
    const member = fresh.find((candidate) => candidate.name === name);
    if (!member) return Promise.resolve(undefined);
    // Not lab.waitFor: the probe agent, stopped by now, counts as a process of the lab that exited.
    return waitFor(`${name} to answer ROLE`, () => readRole(member, fresh), { timeoutMs: 5000, intervalMs: 100 }).catch(() => undefined);
  };
  const finalRoles = Object.fromEntries(
    await Promise.all(members.map(async (name) => [name, describeRole(await settledRole(name))] as const)),
  );
  events.sort((a, b) => a.seconds - b.seconds);
  const common = {
    scenario: scenario.name,
    oldPrimary: firstPrimary,
    failoverRuns: remediate.length,
    promotions: changes.promotions.length,
    primariesSeenAtOnce: primariesSeenAtOnce(rounds),
    writesAcceptedByStalePrimary: writesAcceptedByStalePrimary(rounds, changes.promotions),
    skips: runs.flatMap((run) => (run.skip ? [{ runId: run.id, phase: run.phase, kind: run.skip.kind, reason: run.skip.reason }] : [])),
    runs: runDecisions(runs),
    sideEffects,
    finalRoles,
    events,
    urls: {},
  };
  const runFields = (run: DemoRunView) => ({
    runId: run.id,
    alertFromAlertmanager: run.receiver === 'remediator',
    detectionSeconds: (Date.parse(run.timeline.receivedAt) - faultAt) / 1000,
    dispatchSeconds:
      ((run.timeline.startedAt ? Date.parse(run.timeline.startedAt) : Number.NaN) - Date.parse(run.timeline.receivedAt)) / 1000,
    steps: run.steps.map((step) => ({ name: step.name, status: step.status, durationMs: step.durationMs })),
  });
  const stillPrimary =
    finalRoles[firstPrimary] === 'primary' &&
    members.filter((name) => name !== firstPrimary).every((name) => finalRoles[name] === `replica of ${firstPrimary}`);
  if (tookOver !== undefined && failover) {
    const accepts = await lab
      .member(tookOver)
      .probe.set('remediator:demo:after', '1')
      .then(
        () => true,
        () => false,
      );
    const firstWrite = probe.writesAfter(tookOver, faultAt)[0] ?? Number.NaN;
    return {
      mode: 'live',
      dryRun: false,
      rtoSeconds: (firstWrite - faultAt) / 1000,
      newPrimary: tookOver,
      newPrimaryAcceptsWrites: accepts,
      oldPrimaryFenced: fencedAt !== undefined,
      ...common,
      ...runFields(failover),
    };
  }
  if (options.dryRun) {
    if (!failover) throw new Error('the dry run saw no failover run');
    return {
      mode: 'dry-run',
      dryRun: true,
      rtoSeconds: null,
      rtoNote: `A dry run promotes nothing, so nothing recovers: the cluster had no primary until ${firstPrimary} was restored.`,
      oldPrimaryStillPrimary: stillPrimary,
      ...common,
      ...runFields(failover),
    };
  }
  return {
    mode: 'held',
    dryRun: false,
    rtoSeconds: null,
    oldPrimaryStillPrimary: stillPrimary,
    ...common,
    ...(failover
      ? runFields(failover)
      : { runId: null, alertFromAlertmanager: null, detectionSeconds: null, dispatchSeconds: null, steps: [] }),
  };
}
