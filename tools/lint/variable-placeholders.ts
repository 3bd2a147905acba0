import { templateTokenEnd } from '../../src/core/template/template-syntax.js';

/** Where a stand-in replaced a variable, as offsets into the substituted text. */
export interface Substitution {
  readonly from: number;
  readonly to: number;
}

/** A PromQL text with its variables replaced by stand-ins, and where they are. */
export interface SubstitutedText {
  readonly text: string;
  readonly substitutions: readonly Substitution[];
}

/** The variable that starts at `at` of `text`, or undefined when none does. */
export type VariableMatcher = (text: string, at: number) => string | undefined;

/**
 * A playbook template reference, `{{ labels.cluster }}` or `{{ labels.x | default("a}b") }}`, ended where the
 * playbook loader ends it (a `}` inside a quoted filter argument does not end it).
 */
export const playbookTemplateAt: VariableMatcher = (text, at) => {
  const end = templateTokenEnd(text, at);
  return end === undefined ? undefined : text.slice(at, end);
};

/**
 * A Grafana template variable in any of its syntaxes: `$var`, `$__rate_interval`, `${var}`, `${var:regex}`,
 * `${var.field}`, `[[var]]`, `[[var:csv]]`.
 */
export const grafanaVariablePattern = /\$\{\w+(?:\.[^:}]+)?(?::[^}]*)?\}|\[\[\s*[\w.]+(?::\w+)?\s*\]\]|\$\w+/y;

/** Stand-ins: each parses wherever a value of its kind may stand, and none is taken for a real metric name. */
const standIns = { labelValue: 'placeholder', duration: '5m', name: 'placeholder', number: '1' } as const;

const groupingKeyword = /\b(?:by|without|on|ignoring|group_left|group_right)\s*$/;
const offsetKeyword = /\boffset\s*-?\s*$/;
const nameChar = /[\w:]/;

/**
 * Replaces every variable (matched by `variable`, a matcher or a sticky pattern) with a stand-in that fits where it stands, so the
 * query can be parsed before anything is known of the values: a label value inside a string literal, a duration
 * inside `[…]` or after `offset`, a name inside `by (…)`, `{…}` or when it is part of a longer name, a number
 * anywhere else. Offsets of the stand-ins are returned so that names made up of one can be left unchecked.
 */
export function substituteVariables(text: string, variable: VariableMatcher | RegExp): SubstitutedText {
  const sticky = typeof variable === 'function' || variable.sticky ? variable : new RegExp(variable.source, `${variable.flags}y`);
  const substitutions: Substitution[] = [];
  const open: ('[' | '(' | 'labels' | '{')[] = [];
  let quote: string | undefined;
  let out = '';
  let i = 0;
  const variableAt = (at: number) => {
    if (typeof sticky === 'function') return sticky(text, at);
    sticky.lastIndex = at;
    return sticky.exec(text)?.[0];
  };
  const put = (standIn: string, length: number) => {
    substitutions.push({ from: out.length, to: out.length + standIn.length });
    out += standIn;
    i += length;
  };
  while (i < text.length) {
    const char = text[i] ?? '';
    const variable = variableAt(i);
    if (quote !== undefined) {
      if (variable !== undefined) {
        put(standIns.labelValue, variable.length);
        continue;
      }
      if (char === '\\' && quote !== '`') {
        out += text.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (char === quote) quote = undefined;
      out += char;
      i++;
      continue;
    }
    if (variable !== undefined) {
      put(bareStandIn(out, open.at(-1), text[i + variable.length] ?? ''), variable.length);
      continue;
    }
    if (char === '#') {
      // A comment runs to the end of the line; nothing in it is a variable that matters.
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') quote = char;
    else if (char === '[') open.push('[');
    else if (char === '(') open.push(groupingKeyword.test(out) ? 'labels' : '(');
    else if (char === '{') open.push('{');
    else if (char === ']' || char === ')' || char === '}') open.pop();
    out += char;
    i++;
  }
  return { text: out, substitutions };
}

function bareStandIn(before: string, inside: '[' | '(' | 'labels' | '{' | undefined, next: string): string {
  if (inside === '[' || offsetKeyword.test(before)) return standIns.duration;
  if (inside === 'labels' || inside === '{') return standIns.name;
  if (nameChar.test(before.at(-1) ?? '') || nameChar.test(next) || next === '{') return standIns.name;
  return standIns.number;
}

/** True when [from, to) overlaps a stand-in. */
export function overlapsSubstitution(substitutions: readonly Substitution[], from: number, to: number): boolean {
  return substitutions.some((substitution) => substitution.from < to && substitution.to > from);
}
