import type { Job } from 'bullmq';
import { runDataSchema, type RunData, type StepRecord } from './run-data.js';
import { rtoBreached, runDurations, type RunDurations } from './run-durations.js';

/** A run as the API shows it. */
export interface RunView {
  id: string;
  playbook: string;
  target: string | null;
  state: string;
  phase: RunData['phase'];
  dryRun: boolean;
  /** The Alertmanager receiver (and its external URL) that delivered the alert. */
  receiver: string;
  externalURL?: string;
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

const iso = (ms: number | undefined) => (ms === undefined || ms === 0 ? undefined : new Date(ms).toISOString());

/** Turns a job into a RunView; undefined when the job is not a run. */
export function toRunView(job: Job, state: string): RunView | undefined {
  const parsed = runDataSchema.safeParse(job.data);
  if (!parsed.success || job.id === undefined) return undefined;
  const data = parsed.data;
  const finishedAt = state === 'completed' || state === 'failed' ? (data.finishedAt ?? iso(job.finishedOn)) : undefined;
  // Recovered: the run completed and acted (a skipped or cancelled run completes too, without recovering anything).
  const recovered = state === 'completed' && !data.dryRun && data.skip === undefined && data.steps.length > 0 && data.steps.every((step) => step.status === 'succeeded');
  const durations = runDurations({ ...data, ...(finishedAt === undefined ? {} : { finishedAt }) }, recovered);
  const breached = state === 'completed' && recovered ? rtoBreached(data.rtoMs, durations, 'succeeded') : state === 'failed' ? rtoBreached(data.rtoMs, durations, 'failed') : undefined;
  return {
    id: job.id,
    playbook: data.playbook,
    target: data.target,
    state,
    phase: data.phase,
    dryRun: data.dryRun,
    receiver: data.receiver,
    ...(data.externalURL === undefined ? {} : { externalURL: data.externalURL }),
    attemptsMade: job.attemptsMade,
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
    alert: data.alert,
    steps: data.steps,
    ...(data.guards === undefined ? {} : { guards: data.guards }),
    ...(data.skip === undefined ? {} : { skip: data.skip, skipSteps: data.skipSteps }),
    ...(data.approval === undefined ? {} : { approval: data.approval }),
    durations,
    ...(data.rtoMs === undefined ? {} : { rto: { objectiveSeconds: data.rtoMs / 1000, ...(breached === undefined ? {} : { breached }) } }),
    timeline: {
      alertStartsAt: data.alert.startsAt,
      receivedAt: data.receivedAt,
      queuedAt: new Date(job.timestamp).toISOString(),
      ...(data.firstStartedAt === undefined ? {} : { startedAt: data.firstStartedAt }),
      ...(finishedAt === undefined ? {} : { finishedAt }),
    },
  };
}
