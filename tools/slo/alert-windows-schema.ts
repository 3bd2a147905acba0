import { z } from 'zod';
import { parsePromDuration } from './prom-duration.js';

/** A Prometheus duration (`5m`, `1d`, `36h`), as Sloth's AlertWindows spec takes it. */
export const promDurationSchema = z
  .string()
  .refine((text) => parsePromDuration(text) !== undefined, 'a Prometheus duration, e.g. 5m, 6h, 3d');

const alertWindowSchema = z.strictObject({
  errorBudgetPercent: z.number().gt(0, 'a percentage above 0').lte(100, 'a percentage, at most 100'),
  shortWindow: promDurationSchema,
  longWindow: promDurationSchema,
});

const quickSlowSchema = z.strictObject({ quick: alertWindowSchema, slow: alertWindowSchema });

/** Sloth's `AlertWindows` spec (https://sloth.dev), strict: a typo is an unknown key. */
export const alertWindowsFileSchema = z.strictObject({
  apiVersion: z.literal('sloth.slok.dev/v1', 'must be sloth.slok.dev/v1'),
  kind: z.literal('AlertWindows', 'must be AlertWindows'),
  spec: z.strictObject({
    sloPeriod: promDurationSchema,
    page: quickSlowSchema,
    ticket: quickSlowSchema,
  }),
});

/** An AlertWindows file after schema validation. */
export type AlertWindowsFile = z.output<typeof alertWindowsFileSchema>;
