import { z } from 'zod';
import { durationSchema } from '../util/duration.js';

const slug = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'lower-case letters, digits and -, starting with a letter (at most 63)');

/** One step as written in YAML. `with:` is checked against the action's own schema by the loader. */
export const stepSchema = z.strictObject({
  name: slug,
  action: z.string().min(1),
  with: z.record(z.string(), z.unknown()).default({}),
  timeout: durationSchema.optional(),
});

/** A playbook file as written (strict: a typo'd key is an error). */
export const playbookFileSchema = z.strictObject({
  name: slug,
  description: z.string().optional(),
  /** PromQL label matchers selecting the alerts this playbook handles. */
  match: z.string().min(1),
  on: z.enum(['firing', 'resolved']).default('firing'),
  /** What the run acts on; one run per target at a time. */
  target: z.string().min(1).default('{{ alert.fingerprint }}'),
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(50).default(3),
      backoff: durationSchema.default(5000),
    })
    .default({ attempts: 3, backoff: 5000 }),
  steps: z.array(stepSchema).min(1, 'a playbook needs at least one step'),
  /** Failback: steps run when the alert resolves and stays resolved for `delay` (cancelled if it fires again). */
  resolved: z
    .strictObject({
      delay: durationSchema.default(60_000), // the seeds' 60 s grace period
      steps: z.array(stepSchema).min(1, 'resolved: needs at least one step'),
    })
    .optional(),
});

/** A playbook file after schema validation. */
export type PlaybookFile = z.output<typeof playbookFileSchema>;
