import { CronExpressionParser } from 'cron-parser';

/** One scheduled time of a drill and the window in which it may start. */
export interface DrillOccurrence {
  /** The scheduled time (ms since the epoch): also the occurrence's identity. */
  readonly at: number;
  /** When its window ends (exclusive): `at + window`, or the next occurrence when that comes first. */
  readonly windowEnd: number;
}

/** A drill's cron schedule read in its time zone; every method is pure (the clock is the caller's). */
export interface DrillSchedule {
  /** The latest occurrence scheduled at or before `now`; undefined when the schedule never fired before it. */
  latest(now: number): DrillOccurrence | undefined;
  /** The occurrence before the one at `at`. */
  before(at: number): DrillOccurrence | undefined;
  /** The `n`-th occurrence after `at` (1: the next one). */
  after(at: number, n: number): number;
  /** The gaps between the next `count + 1` occurrences after `from` (ms). */
  gaps(from: number, count: number): number[];
}

/** The result of reading a cron expression: the schedule, or why it is not one. */
export type ParseScheduleResult = { success: true; schedule: DrillSchedule } | { success: false; message: string };

/**
 * Reads `expression` (5 fields, or 6 with seconds first) in `timezone` with cron-parser. cron-parser's iterator
 * moves with every prev()/next(), and prev() is strictly before its date: each question parses afresh, from a
 * date 1 ms after the instant asked about, so that an occurrence at exactly `now` counts as the latest.
 */
export function parseDrillSchedule(expression: string, timezone: string, windowMs: number): ParseScheduleResult {
  const zone = checkTimezone(timezone);
  if (zone !== undefined) return { success: false, message: zone };
  const parse = (currentDate: number) => CronExpressionParser.parse(expression, { currentDate: new Date(currentDate), tz: timezone });
  try {
    parse(0).next();
  } catch (error) {
    return { success: false, message: `not a cron schedule: ${(error as Error).message}` };
  }
  const previousOf = (instant: number): number | undefined => {
    try {
      return parse(instant).prev().getTime();
    } catch {
      // cron-parser gives up on an expression that never matched that far back
      return undefined;
    }
  };
  const occurrence = (at: number): DrillOccurrence => ({ at, windowEnd: Math.min(at + windowMs, parse(at).next().getTime()) });
  return {
    success: true,
    schedule: {
      latest(now) {
        const at = previousOf(now + 1);
        return at === undefined ? undefined : occurrence(at);
      },
      before(at) {
        const earlier = previousOf(at);
        return earlier === undefined ? undefined : occurrence(earlier);
      },
      after(at, n) {
        const iterator = parse(at);
        let time = at;
        for (let index = 0; index < n; index++) time = iterator.next().getTime();
        return time;
      },
      gaps(from, count) {
        const iterator = parse(from);
        const times = Array.from({ length: count + 1 }, () => iterator.next().getTime());
        return times.slice(1).map((time, index) => time - (times[index] ?? time));
      },
    },
  };
}

/** Why `timezone` is not an IANA time zone this Node knows, or undefined when it is one. */
function checkTimezone(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return undefined;
  } catch {
    return `unknown time zone "${timezone}" (an IANA name such as Europe/Paris, or UTC)`;
  }
}
