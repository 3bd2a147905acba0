import { matchesLabels, type LabelMatcher } from '../../src/core/label-matcher.js';
import { atLine, sortProblems, type SourceProblem } from '../../src/sources/index.js';
import { closestName } from './closest-name.js';
import { collectDashboards, type CollectedDashboards } from './collect-dashboards.js';
import { collectPlaybooks, type CollectedPlaybooks } from './collect-playbooks.js';
import { collectRules, type CollectedRules } from './collect-rules.js';
import {
  createKnownMetrics,
  exporterMetricNames,
  prometheusSyntheticNames,
  remediatorMetricNames,
  type KnownMetrics,
} from './known-metrics.js';
import { lintConfigFile, parseLintConfig } from './lint-config.js';
import type { AlertRuleInfo, LintExpression } from './lint-expression.js';
import { projectLayout, type ProjectFiles } from './project-files.js';
import { analysePromql } from './promql-facts.js';
import { scrapedStackPrefixes } from './prometheus-scrapes.js';
import { grafanaVariablePattern, playbookTemplateAt, substituteVariables, type SubstitutedText } from './variable-placeholders.js';

/** Inputs of the lint besides the files; tests may pass their own. */
export interface LintOptions {
  /** remediator's own metric names (default: read from a fresh prom-client registry, plus BullMQ's). */
  readonly ownMetrics?: readonly string[];
}

/** What was linted. */
export interface LintSummary {
  readonly rules: number;
  readonly playbooks: number;
  readonly dashboards: number;
  readonly expressions: number;
}

/** Every problem (sorted), and what was looked at. */
export interface LintResult {
  readonly problems: readonly SourceProblem[];
  readonly summary: LintSummary;
}

/** What the checks share. */
interface LintContext {
  readonly files: ProjectFiles;
  readonly rules: CollectedRules;
  readonly playbooks: CollectedPlaybooks;
  readonly dashboards: CollectedDashboards;
  readonly known: KnownMetrics;
  readonly problems: SourceProblem[];
  expressions: number;
}

/** One check over the whole project; reports through `ctx.problems`. */
type LintCheck = (ctx: LintContext) => void;

/**
 * Lints a project from its files' contents, offline: PromQL syntax everywhere, playbooks ↔ alerts both ways,
 * metrics against what the project and its Prometheus produce, and the all-down pitfall.
 */
export function lintProject(files: ProjectFiles, options: LintOptions = {}): LintResult {
  const rules = collectRules(files.rules);
  const playbooks = collectPlaybooks(files.playbooks, files.inventory, files.drills);
  const dashboards = collectDashboards(files.dashboards);
  const lintConfig = parseLintConfig(files.lintConfig?.text);
  const stack = scrapedStackPrefixes(files.prometheusConfig);
  const known = createKnownMetrics(
    [
      ...exporterMetricNames,
      ...(options.ownMetrics ?? remediatorMetricNames()),
      ...prometheusSyntheticNames,
      ...rules.recorded,
      ...lintConfig.config.externalNames,
    ],
    [...stack.prefixes, ...lintConfig.config.externalPrefixes],
  );
  const ctx: LintContext = {
    files,
    rules,
    playbooks,
    dashboards,
    known,
    problems: [...rules.problems, ...playbooks.problems, ...dashboards.problems, ...lintConfig.problems, ...stack.problems],
    expressions: 0,
  };
  for (const check of checks) check(ctx);
  return {
    problems: sortProblems(ctx.problems),
    summary: {
      rules: rules.ruleCount,
      playbooks: files.playbooks.length,
      dashboards: files.dashboards.length,
      expressions: ctx.expressions,
    },
  };
}

/** The one-line report of a clean project. */
export function formatLintSummary(summary: LintSummary): string {
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  return `lint: ${count(summary.rules, 'rule')}, ${count(summary.playbooks, 'playbook')}, ${count(summary.dashboards, 'dashboard')}, ${count(summary.expressions, 'expression')} OK`;
}

const projectHasRulesAndPlaybooks: LintCheck = ({ files, problems }) => {
  if (files.rules.length === 0)
    problems.push({ file: `${projectLayout.rules}/`, message: 'no rule files (*.yml): nothing for playbooks to match' });
  if (files.playbooks.length === 0)
    problems.push({ file: `${projectLayout.playbooks}/`, message: 'no playbooks (*.yaml): no alert would be acted on' });
};

function substituted(expression: LintExpression): SubstitutedText {
  if (expression.variables === 'playbook-template') return substituteVariables(expression.text, playbookTemplateAt);
  if (expression.variables === 'grafana') return substituteVariables(expression.text, grafanaVariablePattern);
  return { text: expression.text, substitutions: [] };
}

/** Syntax, metrics and the all-down pitfall of every expression. */
const expressionsAreSound: LintCheck = (ctx) => {
  const all = [...ctx.rules.expressions, ...ctx.playbooks.expressions, ...ctx.dashboards.expressions];
  // Each loaded playbook's match: counts too: the loader parsed it (and reported its errors).
  ctx.expressions += all.length + ctx.playbooks.playbooks.length;
  for (const expression of all) {
    const { text, substitutions } = substituted(expression);
    const facts = analysePromql(text, substitutions);
    const report = (offset: number, message: string) => {
      ctx.problems.push({ file: expression.file, message: `${expression.what}: ${message}`, ...atLine(expression.lineAt(offset)) });
    };
    for (const error of facts.errors) report(error.offset, `PromQL ${error.message}`);
    for (const pitfall of facts.pitfalls) report(pitfall.offset, pitfall.message);
    // While a rule file does not parse, its recording rules are unknown: every use of one would be reported.
    if (!ctx.rules.complete) continue;
    for (const metric of facts.metrics) {
      if ('name' in metric) {
        if (ctx.known.has(metric.name)) continue;
        const closest = ctx.known.closest(metric.name);
        report(
          metric.offset,
          `unknown metric "${metric.name}": ${unknownMetricReason}${closest === undefined ? '' : `; did you mean "${closest}"?`}`,
        );
      } else if (!ctx.known.matches(metric.pattern)) {
        report(metric.offset, `__name__=~"${metric.pattern}" selects no known metric: ${unknownMetricReason}`);
      }
    }
  }
};

/** Where a known metric may come from; docs/lint.md says how each is found. */
const unknownMetricReason = `not from the exporter, remediator, a recording rule, Prometheus itself, nor ${lintConfigFile}'s externalMetrics`;

/** Whether a playbook's matchers select an alert, as far as its static labels tell. */
type Verdict = 'yes' | 'no' | 'maybe';

function verdictOf(matchers: readonly LabelMatcher[], labels: ReadonlyMap<string, string | undefined>): Verdict {
  let verdict: Verdict = 'yes';
  for (const matcher of matchers) {
    // A label the rule does not set comes from the expression's series (or is absent): unknown until it fires.
    const value = labels.get(matcher.name);
    if (value === undefined) verdict = 'maybe';
    else if (!matchesLabels([matcher], { [matcher.name]: value })) return 'no';
  }
  return verdict;
}

/** The first matcher an alert's static labels fail, as `label="value"` against what is wanted. */
function mismatch(matchers: readonly LabelMatcher[], alert: AlertRuleInfo): string | undefined {
  for (const matcher of matchers) {
    const value = alert.labels.get(matcher.name);
    if (value !== undefined && !matchesLabels([matcher], { [matcher.name]: value })) {
      return `${alert.name} has ${matcher.name}="${value}", not ${matcher.name}${matcher.op}"${matcher.value}"`;
    }
  }
  return undefined;
}

const formatMatchers = (labels: ReadonlyMap<string, string | undefined>) =>
  `{${[...labels]
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}="${value}"`)
    .join(', ')}}`;

/**
 * Every alert a playbook matches exists in rules/, and a playbook names the alerts it is for. Skipped while a rule
 * file does not parse: every playbook would seem to match nothing.
 */
const playbookAlertsExist: LintCheck = ({ rules, playbooks, problems }) => {
  if (!rules.complete) return;
  const names = [...new Set(rules.alerts.map((alert) => alert.name))].sort();
  for (const playbook of playbooks.playbooks) {
    const matchers = playbook.matchers;
    const report = (message: string) =>
      problems.push({ file: playbook.file, message: `playbook ${playbook.name}: ${message}`, ...atLine(playbook.matchLine) });
    const byName = matchers.filter((matcher) => matcher.name === 'alertname' && (matcher.op === '=' || matcher.op === '=~'));
    if (byName.length === 0) {
      report(
        'match: has no alertname matcher, so it would act on any alert that carries its other labels, including alerts added later; ' +
          'name its alerts (alertname="…" or alertname=~"A|B"; alertname=~".+" if every alert is meant)',
      );
      continue;
    }
    let named = true;
    for (const matcher of byName) {
      if (names.some((name) => matchesLabels([matcher], { alertname: name }))) continue;
      named = false;
      const closest = matcher.op === '=' ? closestName(matcher.value, names) : undefined;
      const hint = closest !== undefined ? `did you mean "${closest}"?` : `alerts: ${names.length === 0 ? 'none' : names.join(', ')}`;
      report(
        `match: no alerting rule in ${projectLayout.rules}/ is named ${matcher.op === '=' ? `"${matcher.value}"` : `to match alertname=~"${matcher.value}"`} (${hint})`,
      );
    }
    if (!named || rules.alerts.some((alert) => verdictOf(matchers, alert.labels) !== 'no')) continue;
    const reasons = rules.alerts.flatMap((alert) => {
      const reason = byName.every((matcher) => matchesLabels([matcher], { alertname: alert.name })) ? mismatch(matchers, alert) : undefined;
      return reason === undefined ? [] : [reason];
    });
    report(`match: matches no alert in ${projectLayout.rules}/ (${reasons.slice(0, 3).join('; ')})`);
  }
};

/** Literal playbook names in a `playbook` annotation: the whole value, or the text between the template's actions. */
function annotatedPlaybooks(annotation: string): string[] {
  if (!annotation.includes('{{')) return [annotation.trim()];
  return annotation
    .split(/\{\{[\s\S]*?\}\}/)
    .map((part) => part.trim())
    .filter((part) => /^[a-z][a-z0-9-]{0,62}$/.test(part));
}

/**
 * Every alert has a playbook that may match it, unless it says `remediation: none` (label or annotation); an alert
 * that says none is matched by no playbook for certain; a `playbook` annotation names playbooks that may match it.
 */
const alertsHavePlaybooks: LintCheck = ({ rules, playbooks, problems }) => {
  // While a playbook does not load, an alert it would cover would seem uncovered, and the name it defines unknown.
  const coverageKnown = playbooks.complete;
  for (const alert of rules.alerts) {
    const report = (message: string) =>
      problems.push({ file: alert.file, message: `alert ${alert.name}: ${message}`, ...atLine(alert.line) });
    const verdicts = playbooks.playbooks.map((playbook) => ({ playbook, verdict: verdictOf(playbook.matchers, alert.labels) }));
    const templatedRemediation = alert.labels.has('remediation') && alert.labels.get('remediation') === undefined;
    const remediation = alert.labels.get('remediation') ?? alert.annotations.remediation;
    if (remediation !== undefined && remediation !== 'auto' && remediation !== 'none')
      report(`remediation is "${remediation}"; use auto (a playbook acts) or none (no playbook should)`);
    if (remediation === 'none') {
      const acting = verdicts.filter(({ verdict }) => verdict === 'yes').map(({ playbook }) => playbook.name);
      if (acting.length > 0)
        report(
          `says remediation: none, yet playbook${acting.length === 1 ? '' : 's'} ${acting.join(', ')} ${acting.length === 1 ? 'matches' : 'match'} it`,
        );
    } else if (coverageKnown && !templatedRemediation && verdicts.every(({ verdict }) => verdict === 'no')) {
      report(
        `no playbook in ${projectLayout.playbooks}/ matches ${formatMatchers(alert.labels)}; add one, or label the alert remediation: none if nothing should act on it`,
      );
    }
    const annotation = alert.annotations.playbook;
    if (annotation === undefined) continue;
    for (const name of annotatedPlaybooks(annotation)) {
      const named = verdicts.find(({ playbook }) => playbook.name === name);
      if (!named) {
        if (coverageKnown) report(`the playbook annotation names "${name}", but there is no such playbook in ${projectLayout.playbooks}/`);
      } else if (named.verdict === 'no') {
        report(`the playbook annotation names "${name}", whose match: ${named.playbook.match} cannot match this alert`);
      }
    }
  }
};

const checks: readonly LintCheck[] = [projectHasRulesAndPlaybooks, expressionsAreSound, playbookAlertsExist, alertsHavePlaybooks];
