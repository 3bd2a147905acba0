import { atLine, list, readYamlSource, record, type SourceDocument, type SourcePath, type SourceProblem } from '../../src/sources/index.js';
import type { AlertRuleInfo, LintExpression } from './lint-expression.js';
import type { ProjectFile } from './project-files.js';

/** What the rule files hold. */
export interface CollectedRules {
  readonly alerts: AlertRuleInfo[];
  /** Names recording rules write: metrics like any other for the rest of the project. */
  readonly recorded: string[];
  readonly expressions: LintExpression[];
  readonly problems: SourceProblem[];
  ruleCount: number;
  /** False when a rule file could not be read: the alerts are then not all known. */
  complete: boolean;
}

const scalarText = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;

/** Reads alerting and recording rules (`groups[].rules[]`), their expressions and the queries in their annotations. */
export function collectRules(files: readonly ProjectFile[]): CollectedRules {
  const collected: CollectedRules = { alerts: [], recorded: [], expressions: [], problems: [], ruleCount: 0, complete: true };
  for (const file of files) {
    const read = readYamlSource(file.path, file.text, 'document');
    if (!read.success) {
      // What the file declares is unknown: its alerts, and the recording rules other expressions may use.
      collected.problems.push(...read.problems);
      collected.complete = false;
      continue;
    }
    const { document } = read;
    const groups = record(document.value)?.groups;
    if (!Array.isArray(groups)) {
      collected.problems.push({
        file: file.path,
        message: 'a rule file needs a list of groups (groups: [{ name, rules: [...] }])',
        ...lineAt(document, []),
      });
      collected.complete = false;
      continue;
    }
    list(groups).forEach((group, groupIndex) => {
      list(record(group)?.rules).forEach((raw, ruleIndex) => {
        collectRule(file.path, document, ['groups', groupIndex, 'rules', ruleIndex], record(raw) ?? {}, collected);
      });
    });
  }
  return collected;
}

function collectRule(file: string, document: SourceDocument, at: SourcePath, rule: Record<string, unknown>, into: CollectedRules): void {
  const alert = scalarText(rule.alert);
  const recorded = scalarText(rule.record);
  const what = alert !== undefined ? `alert ${alert}` : recorded !== undefined ? `recording rule ${recorded}` : 'rule';
  into.ruleCount += 1;
  if (alert === undefined && recorded === undefined) {
    into.problems.push({ file, message: 'a rule needs alert: or record:', ...lineAt(document, at) });
    return;
  }
  const expr = scalarText(rule.expr);
  if (expr === undefined) into.problems.push({ file, message: `${what}: no expr`, ...lineAt(document, at) });
  else {
    const exprPath = [...at, 'expr'];
    into.expressions.push({ file, what, text: expr, variables: 'none', lineAt: (offset) => document.positionIn(exprPath, offset)?.line });
  }
  if (recorded !== undefined) {
    into.recorded.push(recorded);
    return;
  }
  if (alert === undefined) return;
  const labels = new Map<string, string | undefined>([['alertname', alert]]);
  for (const [name, value] of Object.entries(record(rule.labels) ?? {})) {
    const text = scalarText(value);
    labels.set(name, text === undefined || text.includes('{{') ? undefined : text);
  }
  const annotations: Record<string, string> = {};
  for (const [name, value] of Object.entries(record(rule.annotations) ?? {})) {
    const text = scalarText(value);
    if (text === undefined) continue;
    annotations[name] = text;
    const path = [...at, 'annotations', name];
    annotationQueries(text).forEach((query, index) => {
      into.expressions.push({
        file,
        what: `${what} annotation ${name} (query ${index + 1})`,
        text: query,
        variables: 'none',
        lineAt: () => document.position(path)?.line,
      });
    });
  }
  into.alerts.push({ file, line: document.position([...at, 'alert'])?.line, name: alert, labels, annotations });
}

const lineAt = (document: SourceDocument, path: SourcePath) => atLine(document.position(path)?.line);

const goString = /"((?:[^"\\]|\\.)*)"|`([^`]*)`/;

/**
 * The PromQL that an annotation's Go template sends to Prometheus with `query`: `{{ query "up" }}`, or
 * `{{ with printf "count(x{cluster=%q})" $labels.cluster | query }}` with each verb replaced by a stand-in
 * (`%q` a quoted string, `%d`/`%f` a number, others a bare name).
 */
export function annotationQueries(template: string): string[] {
  const queries: string[] = [];
  for (const action of template.matchAll(/\{\{-?([\s\S]*?)-?\}\}/g)) {
    const body = action[1] ?? '';
    if (!/(^|[\s|(])query([\s)]|$)/.test(body)) continue;
    const literal = goString.exec(body);
    if (!literal) continue;
    let text = literal[2] ?? unescapeGo(literal[1] ?? '');
    if (/\bprintf\b/.test(body.slice(0, literal.index))) {
      text = text.replace(/%[-+# 0]*\d*(?:\.\d+)?([a-zA-Z%])/g, (_verb, letter: string) =>
        letter === '%' ? '%' : letter === 'q' ? '"placeholder"' : 'dfgeFGEx'.includes(letter) ? '1' : 'placeholder',
      );
    }
    queries.push(text);
  }
  return queries;
}

function unescapeGo(body: string): string {
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    return body; // a Go-only escape (\x41, octal): the raw text is the best guess
  }
}
