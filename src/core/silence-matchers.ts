import { matchesLabels, parseLabelMatchers, type LabelMatcher, type MatchOperator } from './label-matcher.js';
import { parseTemplate, type TemplateReference } from './template/template-syntax.js';
import { renderString, type TemplateContext } from './template/template.js';

/** A part of a silence matcher's value: literal text, or a reference rendered per run. */
export type SilenceValuePart = string | { readonly reference: string };

/** One matcher of a playbook's `silence:`, its value rendered from the run's alert. */
export interface SilenceMatcherTemplate {
  readonly name: string;
  readonly op: MatchOperator;
  readonly value: readonly SilenceValuePart[];
}

/** A matcher as Alertmanager's v2 API takes it in a silence. */
export interface AlertmanagerMatcher {
  readonly name: string;
  readonly value: string;
  readonly isRegex: boolean;
  readonly isEqual: boolean;
}

/** The outcome of parsing `silence.matchers`: never throws. */
export type SilenceMatchersParseResult = { success: true; matchers: SilenceMatcherTemplate[] } | { success: false; errors: string[] };

// Private-use characters stand in for the references while the matchers are parsed: they cannot be a label name
// and pass through a string literal unchanged, so each reference lands in the value it was written in.
const open = '\uE000';
const close = '\uE001';
const placeholder = new RegExp(`${open}(\\d+)${close}`, 'g');

/**
 * Parses `{alertname=~"A|B", cluster="{{ labels.cluster }}"}` with the playbook's label matcher code. A reference
 * may stand inside a quoted value only (never as a label name or outside quotes), so an alert's label can change a
 * value but never the set of matchers.
 */
export function parseSilenceMatchers(text: string): SilenceMatchersParseResult {
  if (text.includes(open) || text.includes(close))
    return { success: false, errors: ['private-use characters U+E000/U+E001 are not allowed'] };
  const { parts, problems } = parseTemplate(text);
  if (problems.length > 0) return { success: false, errors: problems };
  const references: TemplateReference[] = [];
  const marked = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      references.push(part);
      return `${open}${references.length - 1}${close}`;
    })
    .join('');
  const parsed = parseLabelMatchers(marked);
  if (!parsed.success) return { success: false, errors: parsed.errors.map((error) => restore(error, references)) };
  const errors: string[] = [];
  const matchers = parsed.matchers.map((matcher) => {
    if (matcher.name.includes(open)) errors.push(`${restore(matcher.name, references)}: a label name cannot be templated`);
    return { name: matcher.name, op: matcher.op, value: valueParts(matcher.value, references) };
  });
  if (errors.length > 0) return { success: false, errors };
  // Alertmanager refuses a silence whose every matcher matches the empty string; a reference stands for a non-empty value.
  const sample = matchers.map((matcher) =>
    toLabelMatcher(
      matcher,
      renderParts(matcher, () => 'x'),
    ),
  );
  if (sample.every((matcher) => matchesLabels([matcher], {})))
    return { success: false, errors: ['at least one matcher must not match the empty string (Alertmanager refuses such a silence)'] };
  return { success: true, matchers };
}

/**
 * Renders the matchers for one run. A value inserted into a regex matcher is quoted (`.` stays a dot), so a label can
 * never widen the silence to alerts the playbook did not name. Throws AppError(TEMPLATE_UNKNOWN_REFERENCE) like any
 * template when a reference has no value (or was cut on intake).
 */
export function renderSilenceMatchers(matchers: readonly SilenceMatcherTemplate[], context: TemplateContext): AlertmanagerMatcher[] {
  return matchers.map((matcher) => {
    const regex = matcher.op === '=~' || matcher.op === '!~';
    const value = renderParts(matcher, (reference) => {
      const rendered = renderString(reference, context, 'raw');
      return regex ? quoteRegex(rendered) : rendered;
    });
    return toAlertmanagerMatcher({ name: matcher.name, op: matcher.op, value });
  });
}

/** One label matcher as Alertmanager's `{name, value, isRegex, isEqual}`. */
export function toAlertmanagerMatcher(matcher: Pick<LabelMatcher, 'name' | 'op' | 'value'>): AlertmanagerMatcher {
  return {
    name: matcher.name,
    value: matcher.value,
    isRegex: matcher.op === '=~' || matcher.op === '!~',
    isEqual: matcher.op === '=' || matcher.op === '=~',
  };
}

/** Escapes every RE2 metacharacter: the value matches itself only. */
export function quoteRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

function valueParts(value: string, references: readonly TemplateReference[]): SilenceValuePart[] {
  const parts: SilenceValuePart[] = [];
  let last = 0;
  for (const match of value.matchAll(placeholder)) {
    if (match.index > last) parts.push(value.slice(last, match.index));
    parts.push({ reference: references[Number(match[1])]?.text ?? '' });
    last = match.index + match[0].length;
  }
  if (last < value.length || parts.length === 0) parts.push(value.slice(last));
  return parts;
}

function renderParts(matcher: SilenceMatcherTemplate, render: (reference: string) => string): string {
  return matcher.value.map((part) => (typeof part === 'string' ? part : render(part.reference))).join('');
}

function toLabelMatcher(matcher: SilenceMatcherTemplate, value: string): LabelMatcher {
  const regex = matcher.op === '=~' || matcher.op === '!~';
  return { name: matcher.name, op: matcher.op, value, ...(regex ? { regex: new RegExp(`^(?:${value})$`) } : {}) };
}

function restore(text: string, references: readonly TemplateReference[]): string {
  return text.replace(placeholder, (_whole, index: string) => references[Number(index)]?.text ?? '');
}
