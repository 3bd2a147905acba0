import { alertFactor, periodText, severities } from './burn-rate-windows.js';
import { msPerDay } from './prom-duration.js';
import type { SloSpec } from './slo.js';

/** One line per alert window whose factor was raised to 1, for stderr: which SLO, which window, from what. */
export function raisedFactorNotices(slos: readonly SloSpec[]): string[] {
  return slos.flatMap((slo) =>
    severities
      .filter((severity) => slo.alerting.style === 'remediator' || slo.alerting.alerts[severity] !== undefined)
      .flatMap((severity) =>
        (['quick', 'slow'] as const).flatMap((speed) => {
          const alertWindow = slo.windows[severity][speed];
          const { computed, raised } = alertFactor(alertWindow, slo.windows.sloPeriodMs);
          if (!raised) return [];
          const lasts = Math.round((slo.windows.sloPeriodMs / msPerDay / computed) * 100) / 100;
          return [
            `SLO ${slo.id}: the ${severity} alert over ${alertWindow.longWindow} (${alertWindow.errorBudgetPercent} % of the ${periodText(slo.windows.sloPeriodMs)} budget) would fire at ${computed}×, ` +
              `at which the budget lasts ${lasts} days and never runs out; its factor is raised to 1`,
          ];
        }),
      ),
  );
}
