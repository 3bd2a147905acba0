import { formatPromDuration, msPerDay, parsePromDuration } from './prom-duration.js';

/**
 * The multi-window, multi-burn-rate alerts of the Google SRE workbook ("Alerting on SLOs", table 5-8), as Sloth
 * generates them: each condition holds when the error ratio is above `factor × error budget` over both its long
 * window (enough budget is really being spent) and its short one (and it is still being spent now, so the alert
 * resets within minutes of a recovery).
 *
 * The factor is the burn rate at which `errorBudgetPercent` of the whole budget goes in one long window:
 * errorBudgetPercent / 100 × SLO period / long window. The percentages depend on the period, so each period has
 * its own table (Sloth's `AlertWindows`): 30d is the workbook's (2/5/10/10 % → 14.4/6/3/1), 28d Sloth's (the
 * same percentages), 7d Sloth's (8/12.5/20/42 % → 13.44/3.5/1.4/0.98). Other periods need a table of their own.
 */
export interface AlertWindow {
  readonly errorBudgetPercent: number;
  /** Prometheus durations, as Prometheus prints them (`1d`, not `24h`): they name the recorded SLI series. */
  readonly shortWindow: string;
  readonly longWindow: string;
}

/** One period's table (Sloth's `AlertWindows` spec): the windows of the page and ticket alerts. */
export interface AlertWindows {
  /** The SLO period in milliseconds. */
  readonly sloPeriodMs: number;
  readonly page: { readonly quick: AlertWindow; readonly slow: AlertWindow };
  readonly ticket: { readonly quick: AlertWindow; readonly slow: AlertWindow };
  /** Where the table comes from, for messages (`built in`, or a file). */
  readonly source: string;
}

/** The alert severities, in the order their rules are written. */
export const severities = ['page', 'ticket'] as const;
/** `page` or `ticket`. */
export type Severity = (typeof severities)[number];

const window = (errorBudgetPercent: number, shortWindow: string, longWindow: string): AlertWindow => ({
  errorBudgetPercent,
  shortWindow,
  longWindow,
});

/** The workbook's percentages and windows, for a period of `days`. */
function googleWindows(days: number): AlertWindows {
  return {
    sloPeriodMs: days * msPerDay,
    page: { quick: window(2, '5m', '1h'), slow: window(5, '30m', '6h') },
    ticket: { quick: window(10, '2h', '1d'), slow: window(10, '6h', '3d') },
    source: `built in (${days}d)`,
  };
}

/**
 * The tables Sloth ships (internal/alert/windows/google-28d.yaml, google-30d.yaml) and its 7d table
 * (test/integration/prometheus/windows/7d.yaml, examples/windows/7d.yaml).
 */
export const builtInAlertWindows: readonly AlertWindows[] = [
  googleWindows(30),
  googleWindows(28),
  {
    sloPeriodMs: 7 * msPerDay,
    page: { quick: window(8, '5m', '1h'), slow: window(12.5, '30m', '6h') },
    ticket: { quick: window(20, '2h', '1d'), slow: window(42, '6h', '3d') },
    source: 'built in (7d)',
  },
];

/** The table for `periodMs` among `catalog`, or undefined. */
export function alertWindowsFor(periodMs: number, catalog: readonly AlertWindows[]): AlertWindows | undefined {
  return catalog.find((windows) => windows.sloPeriodMs === periodMs);
}

/**
 * The burn rate at which the window's share of the budget goes in its long window. Integer arithmetic first
 * (milliseconds × percent, exact in a double), one division last, so 30d gives exactly 14.4, 6, 3 and 1.
 */
export function burnFactor(alertWindow: AlertWindow, periodMs: number): number {
  const longMs = parsePromDuration(alertWindow.longWindow) ?? Number.NaN;
  // × 1000 keeps a percentage with up to 3 decimals (12.5) an integer until the division.
  return (Math.round(alertWindow.errorBudgetPercent * 1000) * periodMs) / (100_000 * longMs);
}

/** A factor as alerted on, and whether it was raised from the computed one. */
export interface AlertFactor {
  readonly factor: number;
  readonly computed: number;
  readonly raised: boolean;
}

/**
 * The factor an alert uses: never below 1. An alert says the budget will run out; below 1× it never does within
 * the period (Sloth's 7d ticket over 3d, 42 % of the budget, is 0.98×: at that rate the budget lasts 7.14 days),
 * so a computed factor below 1 is raised to 1.
 */
export function alertFactor(alertWindow: AlertWindow, periodMs: number): AlertFactor {
  const computed = burnFactor(alertWindow, periodMs);
  return computed < 1 ? { factor: 1, computed, raised: true } : { factor: computed, computed, raised: false };
}

/** Every window the alerts of a table read, shortest first, each once: the SLI is recorded over each. */
export function sliWindows(windows: AlertWindows): string[] {
  const all = severities.flatMap((severity) => {
    const { quick, slow } = windows[severity];
    return [quick.shortWindow, quick.longWindow, slow.shortWindow, slow.longWindow];
  });
  const byLength = new Map(all.map((text) => [parsePromDuration(text) ?? 0, text]));
  return [...byLength.entries()].sort(([a], [b]) => a - b).map(([, text]) => text);
}

/** The period as Prometheus (and Sloth) print it: `30d`, `4w` for 28d, `1w` for 7d. */
export const periodWindow = (windows: AlertWindows): string => formatPromDuration(windows.sloPeriodMs);

/**
 * Why an enabled alert of an SLO could never fire (its factor × the budget is 100 % errors or more), or
 * undefined. A budget that large (an objective of 90 % over 30d: 14.4 × 10 %) makes the page meaningless.
 */
export function unreachableAlert(errorBudget: number, windows: AlertWindows, enabled: readonly Severity[]): string | undefined {
  for (const severity of enabled) {
    for (const alertWindow of [windows[severity].quick, windows[severity].slow]) {
      const { factor } = alertFactor(alertWindow, windows.sloPeriodMs);
      if (factor * errorBudget >= 1)
        return `leaves a budget so large that ${factor}× of it is 100 % errors: the ${severity} alert over ${alertWindow.longWindow} could never fire`;
    }
  }
  return undefined;
}

/** A period as people write it: whole days as days (`28d`, not Prometheus' `4w`). */
export const periodText = (ms: number): string => (ms % msPerDay === 0 ? `${ms / msPerDay}d` : formatPromDuration(ms));

/** The problem of an SLO whose period has no table: which period, which tables there are, how to add one. */
export function missingWindowsMessage(slo: string, periodMs: number, catalog: readonly AlertWindows[]): string {
  const known = catalog.map((windows) => periodText(windows.sloPeriodMs)).join(', ');
  return (
    `SLO ${slo}: no burn-rate table for a ${periodText(periodMs)} period (tables: ${known}); ` +
    `write a Sloth AlertWindows file with sloPeriod: ${periodText(periodMs)} into a directory and pass it with --slo-period-windows-path`
  );
}
