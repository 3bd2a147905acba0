import { z } from 'zod';
import { durationSchema } from '../core/duration.js';
import { drillKinds } from './drill.js';

// A pipe, not a refine: a value that is not a duration gets that one problem, not also "must be longer than 0".
const positiveDuration = durationSchema.pipe(z.number().positive('must be longer than 0'));

/** One drill as written (strict: a typo fails). */
export const drillSchema = z.strictObject({
  /** Unique; part of Redis keys, job ids and metric labels, so a slug (no `:`). */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ., _ and -, starting with a letter or digit'),
  /** A cluster of the inventory, of kind redis or postgres. */
  cluster: z.string().min(1),
  /** Cron: 5 fields (minute first) or 6 (second first). */
  schedule: z.string().min(1),
  /** The IANA time zone the schedule is read in. */
  timezone: z.string().min(1).default('UTC'),
  kind: z.enum(drillKinds),
  /** How long after its scheduled time the drill may still start. */
  window: positiveDuration,
  /** How long the cluster may go without a successful drill (default: twice the schedule's longest interval). */
  period: positiveDuration.optional(),
});

/** remediations/drills.yaml as written. */
export const drillsFileSchema = z.strictObject({
  drills: z.array(z.unknown()),
});

/** One drill after schema validation. */
export type DrillEntry = z.output<typeof drillSchema>;
