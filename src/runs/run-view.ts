import type { Job } from 'bullmq';
import { runDataSchema, type RunData, type SkipRecord, type StepRecord } from '../core/run-data.js';
import { rtoBreached, runDurations, type RunDurations } from './run-durations.js';

/** What names a run and where it stands: the start of both its full view and its summary. */
export interface RunIdentity {
  id: string;
  playbook: string;
  target: string | null;
  state: string;
  phase: RunData['phase'];
  dryRun: boolean;
}

/** A run as the API shows it. */
export interface RunView extends RunIdentity {
  /** The Alertmanager receiver (and its external URL) that delivered the alert. */
  receiver: string;
  externalURL?: string;
  /** Not a webhook: the reconcile loop, from Alertmanager's alert list or from the members' live roles. */
  source?: RunData['source'];
  /** A recheck of an episode whose earlier run a step skipped (1, 2, …). */
  attempt?: number;
  /** Who started a manual run. */
  startedBy?: string;
  attemptsMade: number;
  failedReason?: string;
  alert: RunData['alert'];
  steps: StepRecord[];
  /** Guards as evaluated before the run acted. */
  guards?: RunData['guards'];
  /** Why the run did not act, and its skipped: notification steps. */
  skip?: RunData['skip'];
  skipSteps?: StepRecord[];
  approval?: RunData['approval'];
  /** The Alertmanager silence the run held (playbook silence:): its id, active/expired/failed, where, until when, why not. */
  silence?: RunData['silence'];
  /** The run's phases in seconds (detection, dispatch, action, recovery) and its RTO. */
  durations: RunDurations;
  rto?: { objectiveSeconds: number; breached?: boolean };
  timeline: {
    alertStartsAt: string;
    receivedAt: string;
    queuedAt: string;
    startedAt?: string;
    finishedAt?: string;
  };
}

/**
 * A run as the list shows it: what tells runs apart and where each stands, without step outputs and parameters,
 * annotations, guard results or approval comments, which can be large (the full view has them).
 */
export interface RunSummary extends RunIdentity {
  attemptsMade: number;
  /** Cut to `summaryTextLimit` characters. */
  failedReason?: string;
  alert: Pick<RunData['alert'], 'fingerprint' | 'status' | 'startsAt' | 'labels'>;
  steps: { name: string; action: string; status: StepRecord['status']; attempts: number; durationMs?: number; errorCode?: string }[];
  skip?: { kind: SkipRecord['kind'] };
  approval?: { state: NonNullable<RunData['approval']>['state']; deadline: string; by?: string; via?: string; decidedAt?: string };
  durations: RunDurations;
  rto?: RunView['rto'];
  timeline: RunView['timeline'];
}

/** The longest free text a summary carries. */
export const summaryTextLimit = 500;

const iso = (ms: number | undefined) => (ms === undefined || ms === 0 ? undefined : new Date(ms).toISOString());

/** What the full view and the summary share: the parsed data, the phases, the RTO and the timeline. */
function runBasics(
  job: Job,
  state: string,
): { data: RunData; head: RunIdentity; tail: Pick<RunView, 'durations' | 'rto' | 'timeline'> } | undefined {
  const parsed = runDataSchema.safeParse(job.data);
  if (!parsed.success || job.id === undefined) return undefined;
  const data = parsed.data;
  const finishedAt = state === 'completed' || state === 'failed' ? (data.finishedAt ?? iso(job.finishedOn)) : undefined;
  // Recovered: the run completed and acted (a skipped or cancelled run completes too, without recovering anything).
  const recovered =
    state === 'completed' &&
    !data.dryRun &&
    data.skip === undefined &&
    data.steps.length > 0 &&
    data.steps.every((step) => step.status === 'succeeded');
  const durations = runDurations({ ...data, ...(finishedAt === undefined ? {} : { finishedAt }) }, recovered);
  const breached =
    state === 'completed' && recovered
      ? rtoBreached(data.rtoMs, durations, 'succeeded')
      : state === 'failed'
        ? rtoBreached(data.rtoMs, durations, 'failed')
        : undefined;
  return {
    data,
    head: { id: job.id, playbook: data.playbook, target: data.target, state, phase: data.phase, dryRun: data.dryRun },
    tail: {
      durations,
      ...(data.rtoMs === undefined
        ? {}
        : { rto: { objectiveSeconds: data.rtoMs / 1000, ...(breached === undefined ? {} : { breached }) } }),
      timeline: {
        alertStartsAt: data.alert.startsAt,
        receivedAt: data.receivedAt,
        queuedAt: new Date(job.timestamp).toISOString(),
        ...(data.firstStartedAt === undefined ? {} : { startedAt: data.firstStartedAt }),
        ...(finishedAt === undefined ? {} : { finishedAt }),
      },
    },
  };
}

/** Turns a job into a RunView; undefined when the job is not a run. */
export function toRunView(job: Job, state: string): RunView | undefined {
  const basics = runBasics(job, state);
  if (!basics) return undefined;
  const { data } = basics;
  return {
    ...basics.head,
    receiver: data.receiver,
    ...(data.externalURL === undefined ? {} : { externalURL: data.externalURL }),
    ...(data.source === undefined ? {} : { source: data.source }),
    ...(data.attempt === undefined ? {} : { attempt: data.attempt }),
    ...(data.startedBy === undefined ? {} : { startedBy: data.startedBy }),
    attemptsMade: job.attemptsMade,
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
    alert: data.alert,
    steps: data.steps,
    ...(data.guards === undefined ? {} : { guards: data.guards }),
    ...(data.skip === undefined ? {} : { skip: data.skip, skipSteps: data.skipSteps }),
    ...(data.approval === undefined ? {} : { approval: data.approval }),
    ...(data.silence === undefined ? {} : { silence: data.silence }),
    ...basics.tail,
  };
}

/** Turns a job into a RunSummary; undefined when the job is not a run. */
export function toRunSummary(job: Job, state: string): RunSummary | undefined {
  const basics = runBasics(job, state);
  if (!basics) return undefined;
  const { data } = basics;
  const { approval } = data;
  return {
    ...basics.head,
    attemptsMade: job.attemptsMade,
    ...(job.failedReason ? { failedReason: cut(job.failedReason) } : {}),
    alert: { fingerprint: data.alert.fingerprint, status: data.alert.status, startsAt: data.alert.startsAt, labels: data.alert.labels },
    steps: data.steps.map((step) => ({
      name: step.name,
      action: step.action,
      status: step.status,
      attempts: step.attempts,
      ...(step.durationMs === undefined ? {} : { durationMs: step.durationMs }),
      ...(step.error === undefined ? {} : { errorCode: step.error.code }),
    })),
    ...(data.skip === undefined ? {} : { skip: { kind: data.skip.kind } }),
    ...(approval === undefined
      ? {}
      : {
          approval: {
            state: approval.state,
            deadline: approval.deadline,
            ...(approval.by === undefined ? {} : { by: approval.by }),
            ...(approval.via === undefined ? {} : { via: approval.via }),
            ...(approval.decidedAt === undefined ? {} : { decidedAt: approval.decidedAt }),
          },
        }),
    ...basics.tail,
  };
}

function cut(text: string): string {
  return text.length <= summaryTextLimit
    ? text
    : `${text.slice(0, summaryTextLimit)}… (${text.length - summaryTextLimit} more characters in the full view)`;
}
