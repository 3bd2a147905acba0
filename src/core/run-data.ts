import { z } from 'zod';
import { labelSetSchema } from './label-set.js';

/** The reasons a step may end its run as skipped (see skipRun in action.ts). */
export const stepSkipKinds = [
  'primary-reachable',
  'primary-reachable-from-replicas',
  // redis.sentinel-failover: the replicas lost the master, but a quorum of the sentinels still hears from it.
  'primary-reachable-from-sentinels',
  'death-unconfirmed',
  // redis.switchover / postgres.switchover: no candidate caught up, the named member is not a healthy replica, or no
  // primary answers (that is a failover's job): nothing was changed.
  'switchover-refused',
] as const;
/** One reason a step may end its run as skipped. */
export type StepSkipKind = (typeof stepSkipKinds)[number];

/**
 * The step skips that a later look may reverse (a primary whose death was not confirmed may die): the reconcile loop
 * runs their episode again while the alert is active. A refused switchover is an operator's request, not an alert.
 */
export const recheckedSkipKinds: ReadonlySet<string> = new Set<StepSkipKind>(stepSkipKinds.filter((kind) => kind !== 'switchover-refused'));

/** The status of one step in a run. */
export const stepStatusSchema = z.enum(['running', 'succeeded', 'failed', 'would-run', 'skipped']);

/**
 * The process a step started (exec), checkpointed before the step waits on it: a later attempt of the run, in
 * another process after a crash, ends that process group before starting the step again. A pid alone could name
 * another process by then; the host, the boot and the start time make it one process.
 */
export const stepProcessSchema = z.object({
  pid: z.number().int().positive(),
  /** Its process group: the program and everything it started (a script's children). */
  pgid: z.number().int().positive(),
  host: z.string(),
  /** /proc/sys/kernel/random/boot_id */
  bootId: z.string(),
  /** /proc/<pid>/stat field 22: clock ticks after boot. */
  startTime: z.string(),
  /** How long the group gets between SIGTERM and SIGKILL. */
  killAfterMs: z.number().int().nonnegative(),
});

/** The checkpoint of one step, stored in the job so retries and crash recovery skip finished steps. */
export const stepRecordSchema = z.object({
  name: z.string(),
  action: z.string(),
  status: stepStatusSchema,
  attempts: z.number().int().nonnegative(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  durationMs: z.number().nonnegative().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  output: z.unknown().optional(),
  /** The parameters after templating: what the step ran with, or would have ("would run"). */
  params: z.unknown().optional(),
  process: stepProcessSchema.optional(),
  /** What this attempt could not make sure of (an earlier attempt's process on another host, say). */
  warnings: z.array(z.string()).optional(),
});

/** The template references a run must refuse: the labels of `truncated` that were cut (a cut label never steers an action). */
export function cutLabelReferences(cut: readonly string[] | undefined): ReadonlySet<string> {
  return new Set((cut ?? []).filter((path) => path.startsWith('labels.')));
}

/** The alert a run was created for. */
export const runAlertSchema = z.object({
  fingerprint: z.string(),
  status: z.enum(['firing', 'resolved']),
  labels: labelSetSchema,
  annotations: labelSetSchema,
  startsAt: z.string(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  /** Values cut to their size limit on intake (`labels.NAME`, `annotations.NAME`, `generatorURL`, …); a cut label is never rendered. */
  truncated: z.array(z.string()).optional(),
});

/** A guard's evaluation, as recorded in the run. */
export const guardRecordSchema = z.object({
  name: z.string(),
  query: z.string(),
  expect: z.enum(['true', 'false']),
  status: z.enum(['passed', 'failed', 'error']),
  ignored: z.boolean().optional(),
  result: z.unknown().optional(),
  error: z.string().optional(),
  at: z.string(),
});

/** Why a run did not act. Once recorded, a retry keeps the decision (and only finishes its notification steps). */
export const skipRecordSchema = z.object({
  kind: z.enum([
    'hold',
    'guard',
    'cooldown',
    'max-runs',
    'blast-radius',
    'concurrency',
    'approval-rejected',
    'approval-timeout',
    // Decided by a step (skipRun), from what it observed: the death of a primary was not confirmed.
    ...stepSkipKinds,
  ]),
  reason: z.string(),
  at: z.string(),
});

/** The approval state of a run whose playbook requires one. */
export const approvalRecordSchema = z.object({
  state: z.enum(['pending', 'approved', 'rejected', 'timed-out']),
  requestedAt: z.string(),
  deadline: z.string(),
  onTimeout: z.enum(['abort', 'proceed']),
  by: z.string().optional(),
  via: z.string().optional(),
  decidedAt: z.string().optional(),
  comment: z.string().optional(),
  /** The notify: steps, run once when approval was requested. */
  notifySteps: z.array(stepRecordSchema).default([]),
});

/**
 * The Alertmanager silence a run holds while active (playbook `silence:`). Kept in the job so that every attempt
 * (a retry, a crash recovery, a retry from the queue UI) extends the same silence instead of adding a second one.
 */
export const silenceRecordSchema = z.object({
  /** Absent when no Alertmanager accepted it. */
  id: z.string().optional(),
  /** `creating`: asked for and not yet answered (a crash there leaves a silence the next attempt finds by its comment). */
  state: z.enum(['creating', 'active', 'expired', 'failed']),
  /** The Alertmanager that created it (its URL without credentials): expired there first. */
  alertmanager: z.string().optional(),
  endsAt: z.string().optional(),
  /** Why it could not be created or expired (the run went on without it). */
  error: z.string().optional(),
});

/** A remediation run's job data. Validated whenever a worker picks the job up (the queue UI can edit data). */
export const runDataSchema = z.object({
  playbook: z.string(),
  /** The rendered target; null when its template could not be rendered (the run then fails permanently). */
  target: z.string().nullable(),
  targetError: z.string().optional(),
  alert: runAlertSchema,
  receiver: z.string(),
  groupKey: z.string().optional(),
  externalURL: z.string().optional(),
  receivedAt: z.string(),
  dryRun: z.boolean(),
  /** remediate: the playbook's steps; failback: its resolved: steps, after the grace delay. */
  phase: z.enum(['remediate', 'failback']).default('remediate'),
  /**
   * What enqueued the run when not a webhook: `alertmanager`, the reconcile loop from Alertmanager's alert list
   * (a notification that never arrived); `state`, the reconcile loop from the members' live roles; `manual`, an
   * operator (POST /api/playbooks/:name/run, `startedBy`); `drill`, a scheduled failover drill (remediations/drills.yaml,
   * `startedBy` `drill:<name>`).
   */
  source: z.enum(['alertmanager', 'state', 'manual', 'drill']).optional(),
  /** Who started a manual run. */
  startedBy: z.string().optional(),
  /** A recheck: the episode's earlier run was ended skipped by a step, and its alert stayed active (1, 2, …). */
  attempt: z.number().int().positive().optional(),
  firstStartedAt: z.string().optional(),
  /** When the last step finished: the verified recovery of a successful run. */
  finishedAt: z.string().optional(),
  /** The playbook's rto: when the run was queued. */
  rtoMs: z.number().optional(),
  steps: z.array(stepRecordSchema).default([]),
  guards: z.array(guardRecordSchema).optional(),
  /** Set when the budgets admitted this run (it then counts against them). */
  admittedAt: z.string().optional(),
  skip: skipRecordSchema.optional(),
  /** The skipped: notification steps, when the run was skipped. */
  skipSteps: z.array(stepRecordSchema).default([]),
  approval: approvalRecordSchema.optional(),
  silence: silenceRecordSchema.optional(),
});

/** Where a run came from besides a webhook. */
export type RunSource = 'webhook' | 'alertmanager' | 'state' | 'manual' | 'drill';

/** A run's job data. */
export type RunData = z.output<typeof runDataSchema>;
/** The checkpoint of one step. */
export type StepRecord = z.output<typeof stepRecordSchema>;
/** The process group a step started. */
export type StepProcess = z.output<typeof stepProcessSchema>;
/** The silence a run holds. */
export type SilenceRecord = z.output<typeof silenceRecordSchema>;
/** Why a run was skipped. */
export type SkipRecord = z.output<typeof skipRecordSchema>;
