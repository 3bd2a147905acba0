import { z } from 'zod';
import { labelSetSchema } from '../alerts/webhook-schema.js';

/** The status of one step in a run. */
export const stepStatusSchema = z.enum(['running', 'succeeded', 'failed', 'would-run']);

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
  /** Rendered parameters, recorded for dry runs ("would run"). */
  params: z.unknown().optional(),
});

/** The alert a run was created for. */
export const runAlertSchema = z.object({
  fingerprint: z.string(),
  status: z.enum(['firing', 'resolved']),
  labels: labelSetSchema,
  annotations: labelSetSchema,
  startsAt: z.string(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
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
  firstStartedAt: z.string().optional(),
  steps: z.array(stepRecordSchema).default([]),
});

/** A run's job data. */
export type RunData = z.output<typeof runDataSchema>;
/** The checkpoint of one step. */
export type StepRecord = z.output<typeof stepRecordSchema>;
