import { AppError, errorCodes } from '../errors/index.js';
import { escapePromqlString } from '../promql/unquote.js';

/** The data a template can refer to. */
export interface TemplateContext {
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  alert: {
    fingerprint: string;
    status: string;
    startsAt: string;
    endsAt?: string | undefined;
    generatorURL?: string | undefined;
  };
  /** `skipReason` exists only for a skipped: step. */
  run: { id: string; playbook: string; target: string; skipReason?: string };
  /** References (`labels.NAME`) whose values were cut on intake: rendering one fails, so a cut value never steers an action. */
  cut?: ReadonlySet<string>;
}

/**
 * How a value is inserted into a field: `raw` as is, `url` percent-encoded (so a label cannot add a path segment
 * or a query), `promql` escaped for the PromQL context it lands in (so a label cannot change the query).
 */
export type TemplateEscape = 'raw' | 'url' | 'promql';

const referencePattern = /\{\{(.*?)\}\}/g;
const referenceSyntax = /^\s*(labels|annotations|alert|run)\.([A-Za-z_][A-Za-z0-9_]*)\s*$/;
const alertFields = new Set(['fingerprint', 'status', 'startsAt', 'endsAt', 'generatorURL']);
const runFields = new Set(['id', 'playbook', 'target', 'skipReason']);

/** One `{{ root.key }}` reference found in a template string. */
export interface TemplateReference {
  root: 'labels' | 'annotations' | 'alert' | 'run';
  key: string;
  text: string;
}

/** Finds every reference in `text`; malformed or unknown ones are returned as problems. */
export function findReferences(text: string): { references: TemplateReference[]; problems: string[] } {
  const references: TemplateReference[] = [];
  const problems: string[] = [];
  for (const match of text.matchAll(referencePattern)) {
    const inner = match[1] ?? '';
    const parsed = referenceSyntax.exec(inner);
    const root = parsed?.[1] as TemplateReference['root'] | undefined;
    const key = parsed?.[2];
    if (!root || key === undefined) {
      problems.push(
        `unknown reference "{{${inner}}}": use labels.NAME, annotations.NAME, alert.(${[...alertFields].join('|')}) or run.(${[...runFields].join('|')})`,
      );
      continue;
    }
    if (root === 'alert' && !alertFields.has(key)) problems.push(`unknown reference "{{${inner}}}": alert has ${[...alertFields].join(', ')}`);
    else if (root === 'run' && !runFields.has(key)) problems.push(`unknown reference "{{${inner}}}": run has ${[...runFields].join(', ')}`);
    else references.push({ root, key, text: match[0] });
  }
  return { references, problems };
}

/** True when `text` contains a template reference. */
export function isTemplated(text: string): boolean {
  return text.includes('{{');
}

function lookup(reference: TemplateReference, context: TemplateContext): string | undefined {
  const source: Readonly<Record<string, unknown>> =
    reference.root === 'labels' ? context.labels : reference.root === 'annotations' ? context.annotations : reference.root === 'alert' ? context.alert : context.run;
  const value = Object.hasOwn(source, reference.key) ? source[reference.key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** The PromQL string quote open at `offset` of `text`, or undefined outside any string literal. */
function promqlQuoteAt(text: string, offset: number): '"' | "'" | '`' | undefined {
  let quote: '"' | "'" | '`' | undefined;
  for (let i = 0; i < offset; i++) {
    const char = text[i];
    if (quote === undefined) {
      if (char === '"' || char === "'" || char === '`') quote = char;
    } else if (char === '\\' && quote !== '`') i++;
    else if (char === quote) quote = undefined;
  }
  return quote;
}

/** A value that can stand outside a string literal without changing the query's structure: a number, duration or name. */
const promqlBareToken = /^[A-Za-z0-9_.:]+$/;

/**
 * Escapes a value for the PromQL context it lands in, so a label can never change a query: escaped for the
 * enclosing quote inside a string literal; inside backticks (no escapes exist) a backtick is refused; outside
 * any literal only a bare number, duration or name is allowed.
 */
function escapePromql(value: string, text: string, offset: number): string {
  const quote = promqlQuoteAt(text, offset);
  if (quote === '"' || quote === "'") return escapePromqlString(value, quote);
  if (quote === '`') {
    if (value.includes('`')) throw new AppError(errorCodes.TEMPLATE_UNKNOWN_REFERENCE, 'a value with a backtick cannot be inserted into a `raw` PromQL string');
    return value;
  }
  if (!promqlBareToken.test(value)) {
    throw new AppError(errorCodes.TEMPLATE_UNKNOWN_REFERENCE, `"${value.slice(0, 60)}" cannot be inserted outside a PromQL string literal: only numbers, durations and names can (quote the reference)`);
  }
  return value;
}

/** A URL path segment that URL parsing removes (`.`) or climbs out of (`..`); WHATWG URL also reads `%2e` as a dot. */
const dotSegment = /^(?:\.|%2e){1,2}$/i;

/**
 * Percent-encoding leaves dots alone, so a value of `..` (or `.`) that fills a path segment would still move the
 * request to another path once the URL is parsed. Refuses a rendered URL whose path has a dot segment made (even
 * partly) of a substituted value; dot segments written literally in the playbook are the author's.
 */
function refuseDotSegments(rendered: string, values: readonly { start: number; end: number }[]): void {
  const scheme = rendered.indexOf('://');
  const pathStart = scheme < 0 ? 0 : rendered.indexOf('/', scheme + 3);
  if (pathStart < 0) return;
  const pathEnd = rendered.slice(pathStart).search(/[?#]/);
  let start = pathStart;
  for (const segment of rendered.slice(pathStart, pathEnd < 0 ? undefined : pathStart + pathEnd).split('/')) {
    const end = start + segment.length;
    if (dotSegment.test(segment) && values.some((value) => value.start < end && value.end > start)) {
      throw new AppError(errorCodes.TEMPLATE_UNKNOWN_REFERENCE, `a value that makes the URL path segment "${segment}" cannot be inserted: it would change the request's path`);
    }
    start = end + 1;
  }
}

function escapeValue(value: string, escape: TemplateEscape, text: string, offset: number): string {
  if (escape === 'url') return encodeURIComponent(value);
  if (escape === 'promql') return escapePromql(value, text, offset);
  return value;
}

/**
 * Renders one template string. A string that is exactly one reference yields the value unescaped (a whole URL
 * or address taken from an annotation); references embedded in other text are escaped per `escape`.
 * Throws AppError(TEMPLATE_UNKNOWN_REFERENCE) when a reference has no value for this alert.
 */
export function renderString(text: string, context: TemplateContext, escape: TemplateEscape = 'raw'): string {
  const { references, problems } = findReferences(text);
  if (problems.length > 0) throw new AppError(errorCodes.TEMPLATE_UNKNOWN_REFERENCE, problems.join('; '));
  if (references.length === 0) return text;
  const whole = references.length === 1 && text.trim() === references[0]?.text;
  // Where each substituted value landed in the result (replacements run left to right), for the URL path check.
  const values: { start: number; end: number }[] = [];
  let shift = 0;
  const rendered = text.replace(referencePattern, (token: string, _inner: string, offset: number) => {
    const reference = references.find((candidate) => candidate.text === token);
    if (reference && context.cut?.has(`${reference.root}.${reference.key}`)) {
      throw new AppError(errorCodes.TEMPLATE_UNKNOWN_REFERENCE, `${token.replace(/\s+/g, ' ')} was cut on intake (longer than its size limit): a cut value is never used in a template`);
    }
    const value = reference && lookup(reference, context);
    if (value === undefined) {
      throw new AppError(errorCodes.TEMPLATE_UNKNOWN_REFERENCE, `${token.replace(/\s+/g, ' ')} has no value for this alert`);
    }
    const inserted = whole && escape !== 'promql' ? value : escapeValue(value, escape, text, offset);
    values.push({ start: offset + shift, end: offset + shift + inserted.length });
    shift += inserted.length - token.length;
    return inserted;
  });
  if (escape === 'url' && !whole) refuseDotSegments(rendered, values);
  return rendered;
}

/**
 * Renders every string inside `value` (objects and arrays recursively). The escape of a top-level field comes
 * from `escapes[field]`. Values are substituted into the data structure, never into serialized text, so a
 * label can never change the structure of a JSON body or an argv array.
 */
export function renderValue(
  value: unknown,
  context: TemplateContext,
  escapes: Readonly<Record<string, TemplateEscape>> = {},
  field?: string,
): unknown {
  if (typeof value === 'string') return renderString(value, context, (field !== undefined && escapes[field]) || 'raw');
  if (Array.isArray(value)) return value.map((item) => renderValue(item, context, escapes, field));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, renderValue(item, context, escapes, field ?? key)]),
    );
  }
  return value;
}

/** Every template string inside `value`, with its path, for load-time checks. */
export function templateStrings(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; text: string }[] {
  if (typeof value === 'string') return isTemplated(value) ? [{ path, text: value }] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => templateStrings(item, [...path, index]));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => templateStrings(item, [...path, key]));
  }
  return [];
}
