/** One moment of the demo's timeline, in seconds after the fault. */
export interface DemoEvent {
  at: string;
  seconds: number;
  what: string;
}

/** One step of a run as remediator decided it: what ran (or would have run) and with which parameters. */
export interface DemoStepDecision {
  name: string;
  action: string;
  status: string;
  /** The rendered parameters; recorded by remediator for would-run steps only. */
  params?: unknown;
  /** What the action returned (live steps only). */
  output?: unknown;
}

/** What remediator decided for one alert: which playbook, which phase, which steps with which parameters. */
export interface DemoRunDecision {
  runId: string;
  playbook: string;
  phase: string;
  target: string | null;
  dryRun: boolean;
  state: string;
  alert: {
    alertname: string;
    instance: string;
    fingerprint: string;
    status: string;
    startsAt: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  guards?: { name: string; status: string }[];
  skip?: { kind: string; reason: string };
  steps: DemoStepDecision[];
}

/**
 * What the members of the lab's cluster did, as seen by polling ROLE on every member every 100 ms from before
 * the fault to the end, and by the write probe. In a dry run every count is 0 and `primaryRecord` is empty.
 */
export interface DemoSideEffects {
  /** Members seen as a replica and later as a primary. */
  promotions: number;
  promoted: string[];
  /** Members seen as a primary and later as a replica (fenced). */
  demotions: number;
  demoted: string[];
  /** Replicas seen following one primary and later another. */
  repointed: string[];
  /** Writes accepted after the fault by members other than the killed primary (the replicas refuse them). */
  writesOnOtherMembers: number;
  /** remediator's record of the primary it chose, per cluster (`<prefix>:primaries` in its Redis); empty when untouched. */
  primaryRecord: Record<string, string>;
  /** How many ROLE answers the watch collected (so 0 promotions means something). */
  roleSamples: number;
}

/** A run that ended without acting: why (`primary-reachable-from-replicas`, a failed guard, …). */
export interface DemoSkip {
  runId: string;
  phase: string;
  kind: string;
  reason: string;
}

interface DemoSummaryBase {
  /** The scenario (`remediator demo --scenario`). */
  scenario: string;
  oldPrimary: string;
  /** Remediation runs for the failover playbook (exactly one is right). */
  failoverRuns: number;
  /** Promotions the role watch saw (a member seen as a replica, later as a primary). */
  promotions: number;
  /** The most members that accepted the write probe's write in one round (more than 1: two primaries at once). */
  primariesSeenAtOnce: number;
  /** Writes the write probe saw acknowledged by a member after another member was promoted. */
  writesAcceptedByStalePrimary: number;
  /** The runs that ended skipped, with their kind and reason. */
  skips: DemoSkip[];
  /** Every run of the scenario, oldest first: the decisions a dry run must share with a live run. */
  runs: DemoRunDecision[];
  sideEffects: DemoSideEffects;
  /** Each member's role at the end, e.g. `replica of cache-b`. */
  finalRoles: Record<string, string>;
  events: DemoEvent[];
  urls: Record<string, string>;
}

/** The failover run (the remediate phase of the playbook) and the time it took to arrive. */
interface FailoverRunFields {
  runId: string;
  alertFromAlertmanager: boolean;
  detectionSeconds: number;
  dispatchSeconds: number;
  steps: { name: string; status: string; durationMs: number | undefined }[];
}

/** `remediator demo --json`: the failover happened; RTO is fault → first write accepted by the new primary. */
export interface LiveDemoSummary extends DemoSummaryBase, FailoverRunFields {
  mode: 'live';
  dryRun: false;
  rtoSeconds: number;
  newPrimary: string;
  newPrimaryAcceptsWrites: boolean;
  oldPrimaryFenced: boolean;
}

/** `remediator demo --dry-run --json`: remediator decided everything a live run decides and did nothing. */
export interface DryRunDemoSummary extends DemoSummaryBase, FailoverRunFields {
  mode: 'dry-run';
  dryRun: true;
  /** Nothing recovers in a dry run: there is no RTO to measure. */
  rtoSeconds: null;
  rtoNote: string;
  /** The killed primary came back as the primary, its replicas following it again: nothing was changed. */
  oldPrimaryStillPrimary: boolean;
}

/**
 * A live scenario in which no member took over (blip, partition-remediator, lossy as they should end): no RTO; the
 * failover run, if an alert started one, and what it decided.
 */
export interface HeldDemoSummary extends DemoSummaryBase {
  mode: 'held';
  dryRun: false;
  rtoSeconds: null;
  runId: string | null;
  alertFromAlertmanager: boolean | null;
  detectionSeconds: number | null;
  dispatchSeconds: number | null;
  steps: { name: string; status: string; durationMs: number | undefined }[];
  /** The first primary is the primary at the end, its replicas following it. */
  oldPrimaryStillPrimary: boolean;
}

/** What `remediator demo --json` prints. */
export type DemoSummary = LiveDemoSummary | DryRunDemoSummary | HeldDemoSummary;

/** The run fields of GET /api/runs the demo reads (src/runs/run-view.ts). */
export interface DemoRunView {
  id: string;
  playbook: string;
  target: string | null;
  phase: string;
  state: string;
  dryRun: boolean;
  receiver: string;
  alert: { fingerprint: string; status: string; startsAt: string; labels: Record<string, string>; annotations: Record<string, string> };
  guards?: { name: string; status: string }[];
  skip?: { kind: string; reason: string };
  steps: {
    name: string;
    action: string;
    status: string;
    startedAt: string;
    finishedAt?: string;
    durationMs?: number;
    params?: unknown;
    output?: unknown;
  }[];
  timeline: { alertStartsAt: string; receivedAt: string; queuedAt: string; startedAt?: string; finishedAt?: string };
}

/** The decisions of every run, oldest first. */
export function runDecisions(runs: readonly DemoRunView[]): DemoRunDecision[] {
  return [...runs]
    .sort((a, b) => Date.parse(a.timeline.receivedAt) - Date.parse(b.timeline.receivedAt) || a.id.localeCompare(b.id))
    .map((run) => ({
      runId: run.id,
      playbook: run.playbook,
      phase: run.phase,
      target: run.target,
      dryRun: run.dryRun,
      state: run.state,
      alert: {
        alertname: run.alert.labels.alertname ?? '',
        instance: run.alert.labels.instance ?? '',
        fingerprint: run.alert.fingerprint,
        status: run.alert.status,
        startsAt: run.alert.startsAt,
        labels: run.alert.labels,
        annotations: run.alert.annotations,
      },
      ...(run.guards === undefined ? {} : { guards: run.guards.map(({ name, status }) => ({ name, status })) }),
      ...(run.skip === undefined ? {} : { skip: { kind: run.skip.kind, reason: run.skip.reason } }),
      steps: run.steps.map((step) => ({
        name: step.name,
        action: step.action,
        status: step.status,
        ...(step.params === undefined ? {} : { params: step.params }),
        ...(step.output === undefined ? {} : { output: step.output }),
      })),
    }));
}

const seconds = (value: number, digits = 2) => (Number.isFinite(value) ? `${value.toFixed(digits)} s` : 'n/a');

function formatSideEffects(effects: DemoSideEffects): string {
  const record = Object.entries(effects.primaryRecord)
    .map(([cluster, member]) => `${cluster} → ${member}`)
    .join(', ');
  return [
    `${effects.promotions} promoted${effects.promoted.length > 0 ? ` (${effects.promoted.join(', ')})` : ''}`,
    `${effects.demotions} fenced${effects.demoted.length > 0 ? ` (${effects.demoted.join(', ')})` : ''}`,
    `${effects.repointed.length} repointed${effects.repointed.length > 0 ? ` (${effects.repointed.join(', ')})` : ''}`,
    `${effects.writesOnOtherMembers} writes accepted outside the old primary`,
    `primary record ${record === '' ? 'untouched' : record}`,
  ].join(', ');
}

const untouched = (effects: DemoSideEffects) =>
  effects.promotions === 0 &&
  effects.demotions === 0 &&
  effects.repointed.length === 0 &&
  effects.writesOnOtherMembers === 0 &&
  Object.keys(effects.primaryRecord).length === 0;

const scenarioLines = (summary: DemoSummary) => [
  `scenario ${summary.scenario}: ${summary.promotions} promoted, at most ${summary.primariesSeenAtOnce} primary accepting writes at once, ${summary.writesAcceptedByStalePrimary} writes accepted by a stale primary`,
  ...summary.skips.map((skip) => `  ${skip.phase} run skipped (${skip.kind}): ${skip.reason}`),
];

/** The timeline and the figures as a human reads them. */
export function formatDemoSummary(summary: DemoSummary): string {
  const timeline = [
    'timeline (seconds after the fault)',
    ...summary.events.map((event) => `  ${event.seconds.toFixed(2).padStart(7)}  ${event.what}`),
  ];
  if (summary.mode === 'held') {
    return [
      '',
      ...timeline,
      '',
      'no failover: RTO none',
      ...scenarioLines(summary),
      `failover runs: ${summary.failoverRuns}; ${summary.oldPrimary} still primary: ${summary.oldPrimaryStillPrimary ? 'yes' : 'NO'}`,
    ].join('\n');
  }
  if (!summary.dryRun) {
    return [
      '',
      ...timeline,
      '',
      ...scenarioLines(summary),
      `RTO (fault → first write on ${summary.newPrimary}): ${summary.rtoSeconds.toFixed(2)} s`,
      `detection (fault → webhook):            ${summary.detectionSeconds.toFixed(2)} s`,
      `dispatch (webhook → first step):        ${summary.dispatchSeconds.toFixed(3)} s`,
      `failover runs: ${summary.failoverRuns}; old primary fenced: ${summary.oldPrimaryFenced ? 'yes' : 'NO'}`,
    ].join('\n');
  }
  const wouldRun = summary.runs.flatMap((run) => [
    `  ${run.alert.alertname} ${run.alert.instance} (${run.alert.status}) → ${run.playbook}, ${run.phase}, target ${run.target ?? '?'}${run.dryRun ? '' : '  [NOT A DRY RUN]'}: ${run.state}`,
    ...(run.guards && run.guards.length > 0
      ? [`    guards: ${run.guards.map((guard) => `${guard.name} ${guard.status}`).join(', ')}`]
      : []),
    ...(run.skip ? [`    skipped (${run.skip.kind}): ${run.skip.reason}`] : []),
    ...run.steps.map((step) => `    ${step.status.padEnd(9)} ${step.name} (${step.action}) ${JSON.stringify(step.params ?? null)}`),
  ]);
  return [
    '',
    'DRY RUN (DRY_RUN=1): remediator matched, checked and rendered every step as a live run would, and ran none.',
    '',
    ...timeline,
    '',
    'what would have run',
    ...wouldRun,
    '',
    untouched(summary.sideEffects)
      ? `side effects: none (${formatSideEffects(summary.sideEffects)}; ${summary.sideEffects.roleSamples} ROLE samples)`
      : `SIDE EFFECTS IN A DRY RUN: ${formatSideEffects(summary.sideEffects)}`,
    `cluster at the end: ${Object.entries(summary.finalRoles)
      .map(([member, role]) => `${member} ${role}`)
      .join(', ')}`,
    `RTO: none. ${summary.rtoNote}`,
    `detection (fault → webhook):     ${seconds(summary.detectionSeconds)}`,
    `dispatch (webhook → first step): ${seconds(summary.dispatchSeconds, 3)}`,
    `failover runs: ${summary.failoverRuns}`,
  ].join('\n');
}
