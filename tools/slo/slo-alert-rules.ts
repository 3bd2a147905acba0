import { alertFactor, type AlertWindow, type Severity } from './burn-rate-windows.js';
import { selector, sloLabels, sortedLabels, type AlertingRule, type RuleGroup } from './rule-parts.js';
import type { SloSpec, SlothAlert } from './slo.js';

/** `window ratio > (factor * budget)`, for one window of a condition. */
function over(slo: SloSpec, window: string, factor: number): string {
  return `(slo:sli_error:ratio_rate${window}${selector(slo)} > (${factor} * ${slo.errorBudget}))`;
}

const factorOf = (slo: SloSpec, alertWindow: AlertWindow): number => alertFactor(alertWindow, slo.windows.sloPeriodMs).factor;

function conditionExpr(slo: SloSpec, condition: AlertWindow): string {
  const factor = factorOf(slo, condition);
  return `(\n    ${over(slo, condition.shortWindow, factor)}\n    and ignoring (sloth_window)\n    ${over(slo, condition.longWindow, factor)}\n  )`;
}

/** One decimal at most: 2.0833… → 2.1, 5 → 5. */
const brief = (value: number) => String(Math.round(value * 10) / 10);

/** A ratio in percent without float noise: 0.0005 → 0.05. */
const percent = (ratio: number) => String(Number((ratio * 100).toPrecision(12)));

/** Go templates would run `{{` in a description; `{{ "{{" }}` prints it as it is. */
const escapeTemplate = (text: string) => text.replaceAll('{{', '{{ "{{" }}');

const remediatorAlertNames: Record<Severity, string> = { page: 'SLOErrorBudgetBurnPage', ticket: 'SLOErrorBudgetBurnTicket' };

/** rules/slos.yaml's alert: remediator's name, severity and remediation labels, annotations written from the SLO. */
function remediatorAlert(slo: SloSpec, severity: Severity): AlertingRule {
  const { quick: first, slow: second } = slo.windows[severity];
  const fast = factorOf(slo, first);
  const slow = factorOf(slo, second);
  const what = `SLO ${slo.service}/${slo.name} (${slo.objective} % over ${slo.window})`;
  return {
    // Sloth's expression, wrapped in `max without (sloth_window)`: the SLI series differ only in sloth_window,
    // and without this the alert's labels would switch between 5m and 30m as the other condition takes over.
    alert: remediatorAlertNames[severity],
    expr: `max without (sloth_window) (\n  ${conditionExpr(slo, first)}\n  or ignoring (sloth_window)\n  ${conditionExpr(slo, second)}\n)`,
    // The sloth_* ids come with the series too; written here as well, they make each SLO's rule distinct for
    // `promtool check rules` (same alert name, same static labels is a "duplicate rule" to its linter).
    labels: { severity, remediation: 'none', ...sloLabels(slo), sloth_severity: severity },
    annotations: {
      summary:
        severity === 'page'
          ? `${what} is burning its error budget fast`
          : `${what} is burning its error budget too fast to last the ${slo.window}`,
      description: escapeTemplate(
        `Errors above ${fast}× the budget rate (the budget: ${percent(slo.errorBudget)} % of events) over both ${first.longWindow} and ${first.shortWindow}, or above ${slow}× over both ${second.longWindow} and ${second.shortWindow}. ` +
          `At ${fast}× the ${slo.window} budget is gone in about ${brief(slo.windowDays / fast)} days.` +
          (slo.description === undefined ? '' : ` SLI: ${slo.description}`),
      ),
    },
  };
}

/** One window of Sloth's alert expression: the ratio over the threshold, without the window label. */
function slothOver(slo: SloSpec, window: string, factor: number): string {
  return `max(slo:sli_error:ratio_rate${window}${selector(slo)} > (${factor} * ${slo.errorBudget})) without (sloth_window)`;
}

/** Sloth's expression (internal/plugin/slo/core/alert_rules_v1), line for line. */
function slothAlertExpr(slo: SloSpec, severity: Severity): string {
  const { quick, slow } = slo.windows[severity];
  const condition = (alertWindow: AlertWindow) => {
    const factor = factorOf(slo, alertWindow);
    return `(\n    ${slothOver(slo, alertWindow.shortWindow, factor)}\n    and\n    ${slothOver(slo, alertWindow.longWindow, factor)}\n)`;
  };
  return `${condition(quick)}\nor\n${condition(slow)}\n`;
}

/** A Sloth spec's alert: its name, Sloth's default title and summary under its annotations, sloth_severity under its labels. */
function slothAlert(slo: SloSpec, severity: Severity, alert: SlothAlert): AlertingRule {
  return {
    alert: alert.name,
    expr: slothAlertExpr(slo, severity),
    labels: sortedLabels({ sloth_severity: severity, ...alert.labels }),
    annotations: sortedLabels({
      title: `(${severity}) {{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is too fast.`,
      summary: '{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected.',
      ...alert.annotations,
    }),
  };
}

/** The SLO's alert group: page then ticket, as its spec writes them (a disabled Sloth alert is left out). */
export function alertGroup(slo: SloSpec): RuleGroup {
  const rules: AlertingRule[] = [];
  for (const severity of ['page', 'ticket'] as const) {
    if (slo.alerting.style === 'remediator') rules.push(remediatorAlert(slo, severity));
    else {
      const alert = slo.alerting.alerts[severity];
      if (alert !== undefined) rules.push(slothAlert(slo, severity, alert));
    }
  }
  return { name: `sloth-slo-alerts-${slo.id}`, rules };
}
