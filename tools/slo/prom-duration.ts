/**
 * Prometheus durations (`5m`, `1d12h`, `4w`), parsed to milliseconds and printed back the way Prometheus'
 * model.Duration prints them, which is how Sloth names windows: 28d is `4w`, 7d is `1w`, 36h is `1d12h`.
 */
const units = [
  ['y', 365 * 24 * 3_600_000],
  ['w', 7 * 24 * 3_600_000],
  ['d', 24 * 3_600_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

const durationPattern = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** The milliseconds of a Prometheus duration, or undefined when `text` is not one (or is zero). */
export function parsePromDuration(text: string): number | undefined {
  const match = durationPattern.exec(text);
  if (match === null || text === '') return undefined;
  const ms = units.reduce((sum, [, factor], index) => sum + Number(match[index + 1] ?? 0) * factor, 0);
  return ms > 0 ? ms : undefined;
}

/** `ms` as Prometheus prints a duration: years and weeks only when they divide it exactly. */
export function formatPromDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [unit, factor] of units) {
    const exactOnly = unit === 'y' || unit === 'w';
    if (exactOnly && rest % factor !== 0) continue;
    const count = Math.floor(rest / factor);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * factor;
    }
  }
  return text;
}

/** Milliseconds in a day (SLO periods are reported in days by `slo:time_period:days`). */
export const msPerDay = 24 * 3_600_000;
