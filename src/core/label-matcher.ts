import { childNodes, parsePromql } from './promql/parse-promql.js';
import { unquotePromqlString } from './promql/unquote.js';

/** A label matching operator, as in PromQL and Alertmanager. */
export type MatchOperator = '=' | '!=' | '=~' | '!~';

/** One label matcher. Regexes are fully anchored, like Alertmanager's. */
export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOperator;
  readonly value: string;
  readonly regex?: RegExp;
}

/** The outcome of parsing a matcher expression: never throws. */
export type MatcherParseResult = { success: true; matchers: LabelMatcher[] } | { success: false; errors: string[] };

const operators: Record<string, MatchOperator> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

/**
 * Parses `{alertname="InstanceDown", role=~"primary|main"}` (or `InstanceDown{role="primary"}`, where the
 * metric name stands for `alertname`) into matchers, with @prometheus-io/lezer-promql.
 */
export function parseLabelMatchers(text: string): MatcherParseResult {
  const { tree, errors } = parsePromql(text);
  if (errors.length > 0) return { success: false, errors: errors.map((error) => error.message) };
  const top = tree.topNode.firstChild;
  if (top?.name !== 'VectorSelector') {
    return { success: false, errors: [`expected label matchers like {alertname="InstanceDown"}, got ${top?.name ?? 'nothing'}`] };
  }
  const problems: string[] = [];
  const matchers: LabelMatcher[] = [];
  for (const child of childNodes(top)) {
    if (child.name === 'Identifier') {
      matchers.push({ name: 'alertname', op: '=', value: text.slice(child.from, child.to) });
      continue;
    }
    if (child.name !== 'LabelMatchers') continue;
    for (const node of childNodes(child)) {
      if (node.name === 'QuotedLabelName') {
        // `{"InstanceDown", role="primary"}` is Prometheus 3's quoted metric name: skipping it would widen the match.
        try {
          matchers.push({ name: 'alertname', op: '=', value: unquotePromqlString(text.slice(node.from, node.to)) });
        } catch (error) {
          problems.push(`${text.slice(node.from, node.to)}: ${(error as Error).message}`);
        }
        continue;
      }
      if (node.name !== 'UnquotedLabelMatcher' && node.name !== 'QuotedLabelMatcher') continue;
      const nameNode = node.getChild('LabelName') ?? node.getChild('QuotedLabelName');
      const opNode = node.getChild('MatchOp')?.firstChild;
      const valueNode = node.getChild('StringLiteral');
      if (!nameNode || !opNode || !valueNode) {
        problems.push(`incomplete matcher "${text.slice(node.from, node.to)}"`);
        continue;
      }
      const op = operators[opNode.name];
      if (!op) {
        problems.push(`unsupported operator in "${text.slice(node.from, node.to)}"`);
        continue;
      }
      try {
        const rawName = text.slice(nameNode.from, nameNode.to);
        const name = nameNode.name === 'QuotedLabelName' ? unquotePromqlString(rawName) : rawName;
        const value = unquotePromqlString(text.slice(valueNode.from, valueNode.to));
        matchers.push(op === '=~' || op === '!~' ? { name, op, value, regex: anchoredRegex(value) } : { name, op, value });
      } catch (error) {
        problems.push(`${text.slice(node.from, node.to)}: ${(error as Error).message}`);
      }
    }
  }
  if (problems.length > 0) return { success: false, errors: problems };
  if (matchers.length === 0) return { success: false, errors: ['at least one matcher is required'] };
  return { success: true, matchers };
}

/** Compiles a Prometheus (RE2) regex anchored at both ends; a leading (?i) becomes the i flag. */
function anchoredRegex(source: string): RegExp {
  const insensitive = source.startsWith('(?i)');
  const body = insensitive ? source.slice(4) : source;
  const unsupported = jsOnlyRegexFeature(body);
  if (unsupported) throw new Error(`invalid regex "${source}": ${unsupported} is not supported by RE2 (Prometheus, Alertmanager)`);
  try {
    return new RegExp(`^(?:${body})$`, insensitive ? 'i' : '');
  } catch (error) {
    throw new Error(`invalid regex "${source}": ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The first construct JavaScript accepts but RE2 rejects (lookaround, backreferences), if any: a playbook must
 * never match differently from how Alertmanager routes the same alert.
 */
function jsOnlyRegexFeature(source: string): string | undefined {
  for (let i = 0; i < source.length; i++) {
    const char = source[i];
    if (char === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9]/.test(next)) return `the backreference \\${next}`;
      if (next === 'k' && source[i + 2] === '<') return 'a named backreference';
      i++;
      continue;
    }
    if (char === '(' && source[i + 1] === '?') {
      const group = source.slice(i, i + 4);
      if (/^\(\?(=|!|<=|<!)/.test(group)) return `the lookaround "${/^\(\?<?[=!]/.exec(group)?.[0] ?? group}"`;
    }
  }
  return undefined;
}

/** True when `labels` satisfy every matcher; an absent label counts as the empty string, as in Alertmanager. */
export function matchesLabels(matchers: readonly LabelMatcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((matcher) => {
    const value = Object.hasOwn(labels, matcher.name) ? (labels[matcher.name] ?? '') : '';
    switch (matcher.op) {
      case '=':
        return value === matcher.value;
      case '!=':
        return value !== matcher.value;
      case '=~':
        return matcher.regex?.test(value) ?? false;
      case '!~':
        return !(matcher.regex?.test(value) ?? true);
    }
  });
}
