import type { SyntaxNode } from '@lezer/common';
import { childNodes, parsePromql, type PromqlSyntaxError } from '../../src/core/promql/parse-promql.js';
import { unquotePromqlString } from '../../src/core/promql/unquote.js';
import { overlapsSubstitution, type Substitution } from './variable-placeholders.js';

/** A metric an expression selects: a name, or a regex on `__name__`; `offset` is where the selector starts. */
export type MetricReference = { readonly offset: number } & ({ readonly name: string } | { readonly pattern: string });

/** A comparison that can never be true in the case it exists for, with the reason and a fix. */
export interface AllDownPitfall {
  readonly offset: number;
  readonly message: string;
}

/** What `remediator lint` needs to know about one PromQL expression. */
export interface PromqlFacts {
  readonly errors: readonly PromqlSyntaxError[];
  /** Empty when the expression does not parse. */
  readonly metrics: readonly MetricReference[];
  readonly pitfalls: readonly AllDownPitfall[];
}

const comparisonOperators: Readonly<Record<string, string>> = { Eql: '==', Neq: '!=', Lss: '<', Lte: '<=', Gtr: '>', Gte: '>=' };
/** Aggregations whose result over an empty vector is empty, where a reader expects 0. */
const emptyWhenEmpty = new Set(['count', 'sum']);
/** An `or` with one of these on its other side gives the comparison something to compare when nothing matched. */
const fallbacks = new Set(['vector', 'absent', 'absent_over_time']);

/**
 * Parses an expression (variables already replaced by stand-ins) and reads from its syntax tree the metrics it
 * selects and any all-down pitfall. Names that include a stand-in are unknown until the variable has a value, so
 * they are not reported.
 */
export function analysePromql(text: string, substitutions: readonly Substitution[] = []): PromqlFacts {
  const { tree, errors } = parsePromql(text);
  if (errors.length > 0) return { errors, metrics: [], pitfalls: [] };
  const metrics: MetricReference[] = [];
  const pitfalls: AllDownPitfall[] = [];
  const slice = (node: SyntaxNode) => text.slice(node.from, node.to);
  tree.iterate({
    enter(ref) {
      if (ref.name === 'VectorSelector') metrics.push(...selectedMetrics(ref.node, slice, substitutions));
      if (ref.name === 'BinaryExpr') {
        const pitfall = allDownPitfall(ref.node, slice);
        if (pitfall) pitfalls.push(pitfall);
      }
    },
  });
  return { errors, metrics, pitfalls };
}

function selectedMetrics(
  selector: SyntaxNode,
  slice: (node: SyntaxNode) => string,
  substitutions: readonly Substitution[],
): MetricReference[] {
  const found: MetricReference[] = [];
  const add = (node: SyntaxNode, reference: { name: string } | { pattern: string }) => {
    if (!overlapsSubstitution(substitutions, node.from, node.to)) found.push({ offset: selector.from, ...reference });
  };
  for (const child of childNodes(selector)) {
    if (child.name === 'Identifier') add(child, { name: slice(child) });
    if (child.name !== 'LabelMatchers') continue;
    for (const matcher of childNodes(child)) {
      // Prometheus 3's quoted metric name: {"my.metric", job="x"}.
      if (matcher.name === 'QuotedLabelName') {
        const name = unquoted(slice(matcher));
        if (name !== undefined) add(matcher, { name });
        continue;
      }
      const label = matcher.getChild('LabelName') ?? matcher.getChild('QuotedLabelName');
      const value = matcher.getChild('StringLiteral');
      const op = matcher.getChild('MatchOp')?.firstChild?.name;
      if (!label || !value || (label.name === 'LabelName' ? slice(label) : unquoted(slice(label))) !== '__name__') continue;
      const text = unquoted(slice(value));
      if (text === undefined) continue;
      if (op === 'EqlSingle') add(value, { name: text });
      if (op === 'EqlRegex') add(value, { pattern: text });
    }
  }
  return found;
}

function unquoted(literal: string): string | undefined {
  try {
    return unquotePromqlString(literal);
  } catch {
    return undefined;
  }
}

const unwrap = (node: SyntaxNode): SyntaxNode => (node.name === 'ParenExpr' && node.firstChild ? unwrap(node.firstChild) : node);

/** The operator node of a binary expression: its second child (then come `bool`, `on(…)`, and the right side). */
const operatorOf = (binary: SyntaxNode): string | undefined => childNodes(binary)[1]?.name;

/** A comparison without `bool`: it drops the series that fail it, and can leave nothing at all. */
function isFilter(node: SyntaxNode): boolean {
  const inner = unwrap(node);
  const op = inner.name === 'BinaryExpr' ? operatorOf(inner) : undefined;
  return op !== undefined && op in comparisonOperators && inner.getChild('BoolModifier') === null;
}

function numberValue(node: SyntaxNode, slice: (node: SyntaxNode) => string): number | undefined {
  const inner = unwrap(node);
  if (inner.name === 'UnaryExpr') {
    const operand = inner.lastChild;
    const value = operand ? numberValue(operand, slice) : undefined;
    return value === undefined ? undefined : slice(inner).trimStart().startsWith('-') ? -value : value;
  }
  if (inner.name !== 'NumberDurationLiteral') return undefined;
  const text = slice(inner).trim();
  if (/^[+-]?inf$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  const value = Number(text.replace(/_/g, ''));
  return Number.isNaN(value) ? undefined : value;
}

function holds(op: string, left: number, right: number): boolean {
  switch (op) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    default:
      return left >= right;
  }
}

/** count(…)/sum(…) of a filter, or undefined. */
function aggregationOfFilter(
  node: SyntaxNode,
  slice: (node: SyntaxNode) => string,
): { op: string; grouping: string; filter: SyntaxNode } | undefined {
  const inner = unwrap(node);
  if (inner.name !== 'AggregateExpr') return undefined;
  const op = inner.getChild('AggregateOp');
  const argument = inner.getChild('FunctionCallBody')?.lastChild;
  if (!op || !argument || !emptyWhenEmpty.has(slice(op).toLowerCase()) || !isFilter(argument)) return undefined;
  const grouping = inner.getChild('AggregateModifier');
  return { op: slice(op).toLowerCase(), grouping: grouping ? ` ${slice(grouping)}` : '', filter: unwrap(argument) };
}

/** True when an enclosing `… or vector(0)` / `… or absent(…)` answers for the empty case. */
function hasFallback(node: SyntaxNode, slice: (node: SyntaxNode) => string): boolean {
  for (let child = node, parent = node.parent; parent; child = parent, parent = parent.parent) {
    if (parent.name !== 'BinaryExpr' || operatorOf(parent) !== 'Or') continue;
    const other = parent.firstChild?.from === child.from ? parent.lastChild : parent.firstChild;
    if (other && containsFallback(other, slice)) return true;
  }
  return false;
}

function containsFallback(node: SyntaxNode, slice: (node: SyntaxNode) => string): boolean {
  if (node.name === 'FunctionIdentifier' && fallbacks.has(slice(node).toLowerCase())) return true;
  return childNodes(node).some((child) => containsFallback(child, slice));
}

/**
 * The all-down pitfall: `count(up == 1) < 1`. When every series fails the filter, the filter is an empty vector,
 * count() of it is empty too (not 0), and the comparison has nothing to compare: the alert cannot fire in exactly
 * the case it is for. Reported when 0 would satisfy the comparison (so an empty count is a missed alert) and no
 * `or vector(0)` / `or absent(…)` covers the empty case.
 */
function allDownPitfall(binary: SyntaxNode, slice: (node: SyntaxNode) => string): AllDownPitfall | undefined {
  const op = comparisonOperators[operatorOf(binary) ?? ''];
  const left = binary.firstChild;
  const right = binary.lastChild;
  if (op === undefined || !left || !right) return undefined;
  for (const [aggregated, other, aggregatedOnLeft] of [
    [left, right, true],
    [right, left, false],
  ] as const) {
    const aggregation = aggregationOfFilter(aggregated, slice);
    const threshold = numberValue(other, slice);
    if (!aggregation || threshold === undefined) continue;
    const zeroSatisfies = aggregatedOnLeft ? holds(op, 0, threshold) : holds(op, threshold, 0);
    if (!zeroSatisfies || hasFallback(binary, slice)) continue;
    const filter = aggregation.filter;
    const filterOp = comparisonOperators[operatorOf(filter) ?? ''] ?? '';
    const modifier = filter.getChild('MatchingModifierClause');
    const filterLeft = filter.firstChild;
    const filterRight = filter.lastChild;
    const fix =
      modifier || !filterLeft || !filterRight
        ? 'compare something every series contributes to, e.g. max by (…) (metric) == 0'
        : `e.g. sum${aggregation.grouping} (${slice(filterLeft)} ${filterOp} bool ${slice(filterRight)}) ${op} ${slice(other).trim()}, or max by (…) (metric) == 0`;
    return {
      offset: binary.from,
      message:
        `all-down pitfall: "${shorten(slice(binary))}" can never be true when every series fails "${shorten(slice(filter))}": ` +
        `${aggregation.op}() of an empty vector is empty, not 0, so there is nothing to compare; ${fix}`,
    };
  }
  return undefined;
}

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 100 ? `${oneLine.slice(0, 97)}...` : oneLine;
}
