import { z } from 'zod';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Parses "500ms", "30s", "2m", "1h", "1d" into milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Math.round(Number(amount) * (units[unit ?? ''] ?? Number.NaN));
}

/** A duration written as "30s" / "2m" / "1h" (or a plain number of milliseconds), parsed to milliseconds. */
export const durationSchema = z.union([
  z.number().int().nonnegative(),
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      // continue: true keeps this branch "not aborted", so the union reports this message instead of "Invalid input".
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (use e.g. 500ms, 30s, 2m, 1h)`, continue: true });
      return z.NEVER;
    }
    return ms;
  }),
]);
