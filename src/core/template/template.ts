import { AppError, errorCodes } from '../errors/index.js';
import { escapeRule, type InsertedValue, type TemplateEscape } from './template-escapes.js';
import { applyFilter } from './template-filters.js';
import { parseTemplate, type TemplateReference } from './template-syntax.js';

export type { TemplateEscape } from './template-escapes.js';
export type { TemplateReference } from './template-syntax.js';

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
  /** The signed approve and reject links: only in an approval's notify: steps, and only when the playbook names a linkUser. */
  approval?: { approveUrl: string; rejectUrl: string; linkUser: string; linkExpiresAt: string };
  /** References (`labels.NAME`) whose values were cut on intake: rendering one fails, so a cut value never steers an action. */
  cut?: ReadonlySet<string>;
}

/** Finds every reference in `text`; malformed or unknown ones are returned as problems. */
export function findReferences(text: string): { references: TemplateReference[]; problems: string[] } {
  const { parts, problems } = parseTemplate(text);
  return { references: parts.filter((part): part is TemplateReference => typeof part !== 'string'), problems };
}

/** True when `text` contains a template reference. */
export function isTemplated(text: string): boolean {
  return text.includes('{{');
}

function lookup(reference: TemplateReference, context: TemplateContext): string | undefined {
  const source: Readonly<Record<string, unknown>> =
    reference.root === 'labels'
      ? context.labels
      : reference.root === 'annotations'
        ? context.annotations
        : reference.root === 'alert'
          ? context.alert
          : reference.root === 'approval'
            ? (context.approval ?? {})
            : context.run;
  const value = Object.hasOwn(source, reference.key) ? source[reference.key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** The value of a reference after its filters, or undefined when the alert has none. */
function valueOf(reference: TemplateReference, context: TemplateContext): string | undefined {
  return reference.filters.reduce<string | undefined>((value, filter) => applyFilter(value, filter), lookup(reference, context));
}

/** True when `text` is exactly one reference (surrounding spaces aside): the field takes the value whole. */
export function isWholeReference(text: string): boolean {
  const { parts, problems } = parseTemplate(text.trim());
  return problems.length === 0 && parts.length === 1 && typeof parts[0] !== 'string';
}

/** `text` with every reference replaced by `standIn`, for checks that need the literal text around them. */
export function replaceReferences(text: string, standIn: string): string {
  return parseTemplate(text)
    .parts.map((part) => (typeof part === 'string' ? part : standIn))
    .join('');
}

/**
 * Renders one template string. Each value is inserted as the field's escape says (see TemplateEscape); a field
 * that is exactly one reference takes the value as is where the escape allows a whole value (`raw`, `url`: a whole
 * URL from an annotation), and is checked like any other where the escape guards the field's structure.
 * Throws AppError(TEMPLATE_UNKNOWN_REFERENCE) when a reference has no value for this alert or a value is refused.
 */
export function renderString(text: string, context: TemplateContext, escape: TemplateEscape = 'raw'): string {
  const { parts, problems } = parseTemplate(text);
  if (problems.length > 0) throw new AppError(errorCodes.TEMPLATE_UNKNOWN_REFERENCE, problems.join('; '));
  const references = parts.filter((part): part is TemplateReference => typeof part !== 'string');
  if (references.length === 0) return text;
  const rule = escapeRule(escape);
  const whole = references.length === 1 && text.trim() === references[0]?.text;
  const asIs = whole && rule.wholeValueAsIs;
  let rendered = '';
  let literal = '';
  // Where each substituted value landed in the result, for the checks on the whole field.
  const values: InsertedValue[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      rendered += part;
      literal += part;
      continue;
    }
    // Before the lookup and any default: a cut label must fail, never fall back to a default.
    if (context.cut?.has(`${part.root}.${part.key}`)) {
      throw new AppError(
        errorCodes.TEMPLATE_UNKNOWN_REFERENCE,
        `${part.text.replace(/\s+/g, ' ')} was cut on intake (longer than its size limit): a cut value is never used in a template`,
      );
    }
    const value = valueOf(part, context);
    if (value === undefined) {
      // A default always yields a value, so a reference without one is the only way here.
      throw new AppError(
        errorCodes.TEMPLATE_UNKNOWN_REFERENCE,
        `${part.text.replace(/\s+/g, ' ')} has no value for this alert (give it one with | default("…"))`,
      );
    }
    const inserted = asIs ? value : rule.insert(value, literal, whole);
    values.push({ start: rendered.length, end: rendered.length + inserted.length });
    rendered += inserted;
  }
  if (!asIs) rule.check?.(rendered, values);
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
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item, context, escapes, field ?? key)]));
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
