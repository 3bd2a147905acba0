/**
 * The multi-window, multi-burn-rate alerts of the Google SRE workbook ("Alerting on SLOs", table 5-8), the same
 * as Sloth's: each condition holds when the error ratio is above `factor × error budget` over both its long
 * window (enough budget is really being spent) and its short one (and it is still being spent now, so the
 * alert resets within minutes of a recovery).
 *
 * The factor is the burn rate at which `budgetPercent` of the whole budget goes in one long window:
 * budgetPercent / 100 × SLO window / long window. For a 30d SLO: 2 % in 1h is 14.4×, 5 % in 6h is 6×,
 * 10 % in 1d is 3× and 10 % in 3d is 1×.
 */
export interface BurnRateCondition {
  readonly long: string;
  readonly longMinutes: number;
  readonly short: string;
  readonly budgetPercent: number;
}

/** An alert severity with the conditions (any of them) that raise it. */
export interface BurnRateAlert {
  readonly severity: 'page' | 'ticket';
  readonly alertname: string;
  readonly conditions: readonly [BurnRateCondition, BurnRateCondition];
}

const minutesPerDay = 24 * 60;

/** Page a human: the budget is going within days. Open a ticket: within weeks. */
export const burnRateAlerts: readonly BurnRateAlert[] = [
  {
    severity: 'page',
    alertname: 'SLOErrorBudgetBurnPage',
    conditions: [
      { long: '1h', longMinutes: 60, short: '5m', budgetPercent: 2 },
      { long: '6h', longMinutes: 6 * 60, short: '30m', budgetPercent: 5 },
    ],
  },
  {
    severity: 'ticket',
    alertname: 'SLOErrorBudgetBurnTicket',
    conditions: [
      { long: '1d', longMinutes: minutesPerDay, short: '2h', budgetPercent: 10 },
      { long: '3d', longMinutes: 3 * minutesPerDay, short: '6h', budgetPercent: 10 },
    ],
  },
];

/** The rate windows the SLI is recorded over (the alerts' windows), shortest first, as Sloth records them. */
export const sliWindows = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

/**
 * The burn-rate factor of a condition for an SLO window of `windowDays`. Integer arithmetic first, one division
 * last, so 30d gives exactly 14.4, 6, 3 and 1 rather than 14.399999999999999.
 */
export function burnFactor(condition: BurnRateCondition, windowDays: number): number {
  return (condition.budgetPercent * windowDays * minutesPerDay) / (100 * condition.longMinutes);
}
