import { z } from 'zod';

/** Service and SLO names: they become `sloth_service`, `sloth_slo` and part of `sloth_id` and of group names. */
const nameSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and -, starting with a letter or digit');

/** Labels a file adds to every series and alert of its SLOs; the generator's own labels cannot be overridden. */
const labelsSchema = z.record(
  z
    .string()
    .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'a Prometheus label name (letters, digits and _, not starting with a digit)')
    .refine((key) => !key.startsWith('__'), 'label names starting with __ are reserved by Prometheus')
    .refine(
      (key) => !key.startsWith('sloth_') && !['severity', 'remediation', 'alertname'].includes(key),
      'set by remediator slo generate; choose another label name',
    ),
  z.string(),
);

/** `30d`: a whole number of days, since `slo:time_period:days` is in days. */
const windowSchema = z
  .string()
  .regex(/^[1-9]\d*d$/, 'a whole number of days, e.g. 30d')
  .refine((window) => Number.parseInt(window, 10) >= 7, 'at least 7d: the slowest burn-rate alert already looks back 3d');

/** The objective in percent; at most 4 decimals (99.9999) so the budget can be computed exactly (99.9 → 0.001, not 0.000999…). */
const objectiveSchema = z
  .number()
  .gt(0, 'a percentage above 0')
  .lt(100, 'a percentage below 100 (an SLO of 100 % has no error budget)')
  .refine((objective) => Math.abs(Math.round(objective * 1e4) - objective * 1e4) < 1e-6, 'at most 4 decimals');

/**
 * The SLI as Sloth's event queries: errors (or good events) and all events, both with `{{.window}}` where the
 * rate window goes. Validated as one object (not a union) so a typo gets its own `unknown key` line.
 */
const sliSchema = z.strictObject({
  errorQuery: z.string().min(1).optional(),
  goodQuery: z.string().min(1).optional(),
  totalQuery: z.string().min(1, 'the PromQL of all events'),
});

const sloSchema = z.strictObject({
  name: nameSchema,
  /** Percent of good events over the window, e.g. 99.9. */
  objective: objectiveSchema,
  window: windowSchema.default('30d'),
  description: z.string().optional(),
  labels: labelsSchema.optional(),
  sli: sliSchema,
});

const serviceSchema = z.strictObject({
  name: nameSchema,
  description: z.string().optional(),
  labels: labelsSchema.optional(),
  slos: z.array(sloSchema).min(1, 'a service needs at least one SLO'),
});

/**
 * Recording rules the SLIs build on (e.g. "the cluster has a primary up" at each evaluation), written before
 * the SLO groups. Prometheus-style names: `level:metric:operations`.
 */
const indicatorSchema = z.strictObject({
  record: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'a metric name (letters, digits, _ and :)'),
  expr: z.string().min(1, 'the PromQL to record'),
  description: z.string().optional(),
});

/** rules/slos.yaml as written (strict: typos fail). */
export const slosFileSchema = z.strictObject({
  indicators: z.array(indicatorSchema).default([]),
  services: z.array(serviceSchema).min(1, 'at least one service'),
});

/** rules/slos.yaml after schema validation. */
export type SlosFile = z.output<typeof slosFileSchema>;
