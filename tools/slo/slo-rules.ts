import { sliWindows } from './burn-rate-windows.js';
import { renderWindow } from './load-slos.js';
import { selector, sloLabels, sortedLabels, type RuleGroup } from './rule-parts.js';
import { alertGroup } from './slo-alert-rules.js';
import type { SloDefinitions, SloSpec } from './slo.js';

export type { AlertingRule, RecordingRule, RuleGroup } from './rule-parts.js';

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
  for (const slo of definitions.slos) {
    const alerts = alertGroup(slo);
    // Sloth writes no alert group for an SLO whose alerts are both disabled.
    groups.push(sliGroup(slo), metaGroup(slo), ...(alerts.rules.length > 0 ? [alerts] : []));
  }
  return groups;
}

/** The descriptions of the indicator rules, in order (written as comments above them). */
export function indicatorComments(definitions: SloDefinitions): (string | undefined)[] {
  return definitions.indicators.map((indicator) => indicator.description);
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
  // Sloth's raw SLI, as Sloth writes it: the query as given, in parentheses (a ratio has no denominator to filter).
  if (slo.sli.kind === 'raw') return `(${renderWindow(slo.sli.errorRatioQuery, window)})`;
  if (slo.sli.kind === 'errors') {
    const errors = nested(renderWindow(slo.sli.errorQuery, window), '  ');
    const total = nested(renderWindow(slo.sli.totalQuery, window), '  ');
    return `(\n  ${errors}\n)\n/\n(\n  (${total}) > 0\n)`;
  }
  const good = nested(renderWindow(slo.sli.goodQuery, window), '    ');
  const total = nested(renderWindow(slo.sli.totalQuery, window), '    ');
  return `1 - (\n  (\n    ${good}\n  )\n  /\n  (\n    (${total}) > 0\n  )\n)`;
}

/** The shortest window of the table (the page's short one, 5m): the period's ratio and the current burn rate read it. */
const shortestWindow = (slo: SloSpec): string => slo.windows.page.quick.shortWindow;

function sliGroup(slo: SloSpec): RuleGroup {
  const labels = sloLabels(slo);
  const recorded = `slo:sli_error:ratio_rate${shortestWindow(slo)}${selector(slo)}`;
  return {
    name: `sloth-slo-sli-recordings-${slo.id}`,
    comment: `${slo.service}/${slo.name}: ${slo.objective} % over ${slo.window}.${slo.description === undefined ? '' : ` ${slo.description}`}`,
    rules: [
      ...sliWindows(slo.windows).map((window) => ({
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
      { record: 'slo:current_burn_rate:ratio', expr: perBudget(`slo:sli_error:ratio_rate${shortestWindow(slo)}`), labels },
      { record: 'slo:period_burn_rate:ratio', expr: perBudget(`slo:sli_error:ratio_rate${slo.window}`), labels },
      { record: 'slo:period_error_budget_remaining:ratio', expr: `1 - slo:period_burn_rate:ratio${sel}`, labels },
      {
        record: 'sloth_slo_info',
        expr: 'vector(1)',
        // rules/slos.yaml's SLOs also say their window here; Sloth specs' say how they were generated, as Sloth's do.
        labels: sortedLabels({
          ...labels,
          sloth_objective: String(slo.objective),
          ...(slo.alerting.style === 'remediator' ? { sloth_window: slo.window } : slo.infoLabels),
        }),
      },
    ],
  };
}
