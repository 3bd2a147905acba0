import { z } from 'zod';
import { durationSchema, parseDuration } from '../../src/core/duration.js';
import { skipRecordSchema } from '../../src/core/run-data.js';

/** `2m30s` (Prometheus's compound form) as the sum of its parts; undefined when it is not one. */
export function parseOffset(text: string): number | undefined {
  const trimmed = text.trim();
  const negative = trimmed.startsWith('-');
  const parts = (negative ? trimmed.slice(1) : trimmed).match(/\d+(?:\.\d+)?(?:ms|s|m|h|d)/g);
  if (!parts || parts.join('') !== (negative ? trimmed.slice(1) : trimmed)) return undefined;
  const ms = parts.reduce((sum, part) => sum + (parseDuration(part) ?? Number.NaN), 0);
  return Number.isNaN(ms) ? undefined : negative ? -ms : ms;
}

/** A time of a test's clock, from its start: `3m`, `2m30s`, `0s`; negative (`-10m`) for state before the start. */
const offsetSchema = z.union([
  z.literal(0),
  z.string().transform((text, ctx) => {
    const ms = parseOffset(text);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `"${text}" is not a time from the test's start (use e.g. 0s, 90s, 2m30s, -10m)`,
        continue: true,
      });
      return z.NEVER;
    }
    return ms;
  }),
]);

const positiveDuration = durationSchema.refine((ms) => ms > 0, 'must be longer than 0');
const labelsSchema = z.record(z.string(), z.string());

/** One alert of an input, from which the webhook body is built (Alertmanager's fields, snake_case like promtool's). */
const alertSchema = z.strictObject({
  labels: labelsSchema.refine((labels) => Object.keys(labels).length > 0, 'an alert needs labels'),
  annotations: labelsSchema.default({}),
  status: z.enum(['firing', 'resolved']).default('firing'),
  /** When it started firing; the input's time unless given. */
  starts_at: offsetSchema.optional(),
  /** A resolved alert's end; the input's time unless given. */
  ends_at: offsetSchema.optional(),
  fingerprint: z.string().min(1).optional(),
  generator_url: z.string().optional(),
});

/** A step as expected: by name, in order; `params` matches partially (see docs/playbook-tests.md). */
const stepSchema = z.strictObject({
  name: z.string().min(1),
  action: z.string().min(1).optional(),
  status: z.string().min(1).optional(),
  params: z.unknown().optional(),
  /** A part of the step's error message. */
  error: z.string().min(1).optional(),
});

/** The run one matched playbook makes of an alert, as expected. */
const runSchema = z.strictObject({
  playbook: z.string().min(1),
  outcome: z.enum(['would-run', 'skipped', 'failed', 'cancelled', 'duplicate', 'waiting']),
  phase: z.enum(['remediate', 'failback']).optional(),
  /** The rendered target; null: it could not be rendered. */
  target: z.string().nullable().optional(),
  steps: z.array(stepSchema).optional(),
  skip_steps: z.array(stepSchema).optional(),
  skip: z
    .strictObject({
      kind: skipRecordSchema.shape.kind,
      /** A part of the reason. */
      reason: z.string().min(1).optional(),
    })
    .optional(),
  /** Each named guard's status; guards not named are not checked. */
  guards: z.record(z.string(), z.enum(['passed', 'failed', 'error'])).optional(),
  approval: z.enum(['pending', 'approved', 'rejected', 'timed-out']).optional(),
  /** A part of the run's error. */
  error: z.string().min(1).optional(),
});

/** What one alert of an input is expected to make: exactly these runs (`runs: []`: it matches no playbook). */
const alertExpectSchema = z.strictObject({
  alert: z.number().int().nonnegative().default(0),
  runs: z.array(runSchema),
});

/** One webhook at a time: built from `alerts`, or given whole as `webhook` (an Alertmanager body). */
const inputSchema = z
  .strictObject({
    at: offsetSchema,
    alerts: z.array(alertSchema).min(1).optional(),
    webhook: z.unknown().optional(),
    expect: z.array(alertExpectSchema).default([]),
  })
  .refine((input) => (input.alerts === undefined) !== (input.webhook === undefined), 'give either alerts or webhook');

/** A series in promtool's notation. */
const seriesSchema = z.strictObject({
  series: z.string().min(1),
  values: z.string().min(1),
});

/** The state before the first input. */
const stateSchema = z.strictObject({
  /** Runs already made (in the dry-run budget a test's runs spend): each counts in maxRuns, the last starts the cooldown. */
  budgets: z
    .array(z.strictObject({ playbook: z.string().min(1), target: z.string().min(1), runs_at: z.array(offsetSchema).min(1) }))
    .default([]),
  holds: z
    .array(
      z.strictObject({
        target: z.string().min(1),
        reason: z.string().min(1),
        by: z.string().min(1).optional(),
        from: offsetSchema.optional(),
        until: offsetSchema,
      }),
    )
    .default([]),
  /** The fleet's blast radius (MAX_TARGETS, TARGETS_WINDOW); none unless given. */
  blast_radius: z.strictObject({ max_targets: z.number().int().positive(), window: positiveDuration }).optional(),
});

const testSchema = z.strictObject({
  name: z.string().min(1),
  /** Between two values of a series (promtool's default: 1m). */
  interval: positiveDuration.default(60_000),
  input_series: z.array(seriesSchema).default([]),
  state: stateSchema.default({ budgets: [], holds: [] }),
  inputs: z.array(inputSchema).min(1),
});

/** A playbook test file (remediations/tests/*.yaml). */
export const testFileSchema = z.strictObject({
  /** The remediations directory, relative to this file; `..` (the directory above tests/) unless given. */
  playbooks: z.string().min(1).default('..'),
  /** The inventory, relative to this file; the playbooks directory's inventory.yaml (if any) unless given. */
  inventory: z.string().min(1).optional(),
  tests: z.array(testSchema).min(1),
});

/** A parsed test file. */
export type TestFile = z.output<typeof testFileSchema>;
/** One test of a file. */
export type PlaybookTest = TestFile['tests'][number];
/** One input of a test. */
export type TestInput = PlaybookTest['inputs'][number];
/** What one alert is expected to make. */
export type AlertExpectation = TestInput['expect'][number];
/** One expected run. */
export type RunExpectation = AlertExpectation['runs'][number];
/** One expected step. */
export type StepExpectation = NonNullable<RunExpectation['steps']>[number];
