import { escapePromqlString } from '../../src/core/promql/unquote.js';
import { burnFactor, burnRateAlerts, sliWindows, type BurnRateAlert, type BurnRateCondition } from './burn-rate-windows.js';
import { renderWindow } from './load-slos.js';
import type { SloDefinitions, SloSpec } from './slo.js';

/** A Prometheus recording rule. */
export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A Prometheus alerting rule (no `for:`: the short window already makes the alert reset quickly). */
export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A rule group, with the comment written above it. */
export interface RuleGroup {
  readonly name: string;
  readonly comment?: string;
  readonly rules: readonly (RecordingRule | AlertingRule)[];
}

/** The group of the shared indicator rules; SLO groups are named as Sloth names them. */
export const indicatorGroupName = 'slo-indicators';

/**
 * The rule groups for every SLO, in Sloth's layout and names (https://sloth.dev): per SLO a group of SLI
 * recordings, one of metadata recordings and one of alerts, preceded by the shared indicator rules.
 */
export function sloRuleGroups(definitions: SloDefinitions): RuleGroup[] {
  const groups: RuleGroup[] = [];
  if (definitions.indicators.length > 0) {
    groups.push({
      name: indicatorGroupName,
      comment: 'Indicators the SLIs below count over time: one sample per rule evaluation.',
      rules: definitions.indicators.map((indicator) => ({ record: indicator.record, expr: indicator.expr })),
    });
  }
  for (const slo of definitions.slos) groups.push(sliGroup(slo), metaGroup(slo), alertGroup(slo));
  return groups;
}

/** The descriptions of the indicator rules, in order (written as comments above them). */
export function indicatorComments(definitions: SloDefinitions): (string | undefined)[] {
  return definitions.indicators.map((indicator) => indicator.description);
}

function sortedLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

/** The labels every series of the SLO carries: the file's labels and Sloth's ids. */
function sloLabels(slo: SloSpec): Record<string, string> {
  return sortedLabels({ ...slo.labels, sloth_id: slo.id, sloth_service: slo.service, sloth_slo: slo.name });
}

/** `{sloth_id="…", sloth_service="…", sloth_slo="…"}`. */
function selector(slo: SloSpec): string {
  const quoted = (value: string) => `"${escapePromqlString(value)}"`;
  return `{sloth_id=${quoted(slo.id)}, sloth_service=${quoted(slo.service)}, sloth_slo=${quoted(slo.name)}}`;
}

/** A user query on its own lines, its continuation lines indented to sit inside the generated expression. */
function nested(query: string, indent: string): string {
  return query
    .split('\n')
    .map((line, index) => (index === 0 ? line : `${indent}${line}`))
    .join('\n');
}

/**
 * The error ratio over `window`. The total is filtered with `> 0`: a window without events (no webhook
 * request in 5m) records no sample instead of NaN, which would otherwise poison the 30d average for 30 days.
 */
export function sliErrorRatio(slo: SloSpec, window: string): string {
  if (slo.sli.kind === 'errors') {
    const errors = nested(renderWindow(slo.sli.errorQuery, window), '  ');
    const total = nested(renderWindow(slo.sli.totalQuery, window), '  ');
    return `(\n  ${errors}\n)\n/\n(\n  (${total}) > 0\n)`;
  }
  const good = nested(renderWindow(slo.sli.goodQuery, window), '    ');
  const total = nested(renderWindow(slo.sli.totalQuery, window), '    ');
  return `1 - (\n  (\n    ${good}\n  )\n  /\n  (\n    (${total}) > 0\n  )\n)`;
}

function sliGroup(slo: SloSpec): RuleGroup {
  const labels = sloLabels(slo);
  const recorded = `slo:sli_error:ratio_rate5m${selector(slo)}`;
  return {
    name: `sloth-slo-sli-recordings-${slo.id}`,
    comment: `${slo.service}/${slo.name}: ${slo.objective} % over ${slo.window}.${slo.description === undefined ? '' : ` ${slo.description}`}`,
    rules: [
      ...sliWindows.map((window) => ({
        record: `slo:sli_error:ratio_rate${window}`,
        expr: sliErrorRatio(slo, window),
        labels: { ...labels, sloth_window: window },
      })),
      {
        // Over the SLO window, the mean of the 5m ratios (as Sloth does): the queries are not run over 30d.
        record: `slo:sli_error:ratio_rate${slo.window}`,
        expr: `sum_over_time(${recorded}[${slo.window}])\n/ ignoring (sloth_window)\ncount_over_time(${recorded}[${slo.window}])`,
        labels: { ...labels, sloth_window: slo.window },
      },
    ],
  };
}

function metaGroup(slo: SloSpec): RuleGroup {
  const labels = sloLabels(slo);
  const sel = selector(slo);
  const perBudget = (recorded: string) =>
    `${recorded}${sel}\n/ on (sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio${sel}`;
  return {
    name: `sloth-slo-meta-recordings-${slo.id}`,
    rules: [
      { record: 'slo:objective:ratio', expr: `vector(${slo.objectiveRatio})`, labels },
      { record: 'slo:error_budget:ratio', expr: `vector(${slo.errorBudget})`, labels },
      { record: 'slo:time_period:days', expr: `vector(${slo.windowDays})`, labels },
      { record: 'slo:current_burn_rate:ratio', expr: perBudget('slo:sli_error:ratio_rate5m'), labels },
      { record: 'slo:period_burn_rate:ratio', expr: perBudget(`slo:sli_error:ratio_rate${slo.window}`), labels },
      { record: 'slo:period_error_budget_remaining:ratio', expr: `1 - slo:period_burn_rate:ratio${sel}`, labels },
      {
        record: 'sloth_slo_info',
        expr: 'vector(1)',
        labels: sortedLabels({ ...labels, sloth_objective: String(slo.objective), sloth_window: slo.window }),
      },
    ],
  };
}

/** `window ratio > (factor * budget)`, for one window of a condition. */
function over(slo: SloSpec, window: string, factor: number): string {
  return `(slo:sli_error:ratio_rate${window}${selector(slo)} > (${factor} * ${slo.errorBudget}))`;
}

function conditionExpr(slo: SloSpec, condition: BurnRateCondition): string {
  const factor = burnFactor(condition, slo.windowDays);
  return `(\n    ${over(slo, condition.short, factor)}\n    and ignoring (sloth_window)\n    ${over(slo, condition.long, factor)}\n  )`;
}

/** One decimal at most: 2.0833… → 2.1, 5 → 5. */
const brief = (value: number) => String(Math.round(value * 10) / 10);

/** A ratio in percent without float noise: 0.0005 → 0.05. */
const percent = (ratio: number) => String(Number((ratio * 100).toPrecision(12)));

/** Go templates would run `{{` in a description; `{{ "{{" }}` prints it as it is. */
const escapeTemplate = (text: string) => text.replaceAll('{{', '{{ "{{" }}');

function alertRule(slo: SloSpec, alert: BurnRateAlert): AlertingRule {
  const [first, second] = alert.conditions;
  const fast = burnFactor(first, slo.windowDays);
  const slow = burnFactor(second, slo.windowDays);
  const what = `SLO ${slo.service}/${slo.name} (${slo.objective} % over ${slo.window})`;
  return {
    // Sloth's expression, wrapped in `max without (sloth_window)`: the SLI series differ only in sloth_window,
    // and without this the alert's labels would switch between 5m and 30m as the other condition takes over.
    alert: alert.alertname,
    expr: `max without (sloth_window) (\n  ${conditionExpr(slo, first)}\n  or ignoring (sloth_window)\n  ${conditionExpr(slo, second)}\n)`,
    // The sloth_* ids come with the series too; written here as well, they make each SLO's rule distinct for
    // `promtool check rules` (same alert name, same static labels is a "duplicate rule" to its linter).
    labels: { severity: alert.severity, remediation: 'none', ...sloLabels(slo), sloth_severity: alert.severity },
    annotations: {
      summary:
        alert.severity === 'page'
          ? `${what} is burning its error budget fast`
          : `${what} is burning its error budget too fast to last the ${slo.window}`,
      description: escapeTemplate(
        `Errors above ${fast}× the budget rate (the budget: ${percent(slo.errorBudget)} % of events) over both ${first.long} and ${first.short}, or above ${slow}× over both ${second.long} and ${second.short}. ` +
          `At ${fast}× the ${slo.window} budget is gone in about ${brief(slo.windowDays / fast)} days.` +
          (slo.description === undefined ? '' : ` SLI: ${slo.description}`),
      ),
    },
  };
}

function alertGroup(slo: SloSpec): RuleGroup {
  return { name: `sloth-slo-alerts-${slo.id}`, rules: burnRateAlerts.map((alert) => alertRule(slo, alert)) };
}
