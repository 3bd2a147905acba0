import { filterSyntax, type TemplateFilter } from './template-filters.js';

const alertFields = new Set(['fingerprint', 'status', 'startsAt', 'endsAt', 'generatorURL']);
const runFields = new Set(['id', 'playbook', 'target', 'skipReason']);
const approvalFields = new Set(['approveUrl', 'rejectUrl', 'linkUser', 'linkExpiresAt']);

/** One `{{ root.key | filter … }}` reference found in a template string. */
export interface TemplateReference {
  root: 'labels' | 'annotations' | 'alert' | 'run' | 'approval';
  key: string;
  /** Applied left to right to the value. */
  filters: TemplateFilter[];
  /** The whole reference as written, braces included. */
  text: string;
}

/**
 * The end (after `}}`) of the reference that opens with `{{` at `start`, or undefined when it is not closed.
 * A `}}` inside a quoted filter argument (`default("}}")`) does not close it.
 */
export function templateTokenEnd(text: string, start: number): number | undefined {
  if (!text.startsWith('{{', start)) return undefined;
  let quote: string | undefined;
  for (let i = start + 2; i < text.length; i++) {
    const char = text.charAt(i);
    if (quote !== undefined) {
      if (char === '\\') i++;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") quote = char;
    else if (char === '}' && text.charAt(i + 1) === '}') return i + 2;
  }
  return undefined;
}

/** A template string cut into literal text and references, in order. */
export type TemplatePart = string | TemplateReference;

/** Cuts `text` into literal parts and references; malformed or unknown references are returned as problems. */
export function parseTemplate(text: string): { parts: TemplatePart[]; problems: string[] } {
  const parts: TemplatePart[] = [];
  const problems: string[] = [];
  let from = 0;
  for (let open = text.indexOf('{{'); open >= 0; open = text.indexOf('{{', from)) {
    const end = templateTokenEnd(text, open);
    if (end === undefined) {
      problems.push(`"${text.slice(open, open + 40)}" has no closing }} (or leaves a quote open)`);
      break;
    }
    if (open > from) parts.push(text.slice(from, open));
    const token = text.slice(open, end);
    const parsed = parseReference(token);
    if (typeof parsed === 'string') problems.push(parsed);
    else parts.push(parsed);
    from = end;
  }
  if (from < text.length) parts.push(text.slice(from));
  return { parts, problems };
}

const referenceSyntax = /^\s*(labels|annotations|alert|run|approval)\.([A-Za-z_][A-Za-z0-9_]*)\s*(?=\||$)/;
const filterName = /^\s*\|\s*([A-Za-z_][A-Za-z0-9_]*)\s*/;
const stringArgument = /^\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\)\s*/;

/** Reads `{{ root.key | filter … }}`; a string is the problem with it. */
function parseReference(token: string): TemplateReference | string {
  const inner = token.slice(2, -2);
  const parsed = referenceSyntax.exec(inner);
  const root = parsed?.[1] as TemplateReference['root'] | undefined;
  const key = parsed?.[2];
  if (!parsed || !root || key === undefined) {
    return `unknown reference "${token}": use labels.NAME, annotations.NAME, alert.(${[...alertFields].join('|')}), run.(${[...runFields].join('|')}) or approval.(${[...approvalFields].join('|')}), optionally followed by | ${Object.values(filterSyntax).join(' or | ')}`;
  }
  if (root === 'alert' && !alertFields.has(key)) return `unknown reference "${token}": alert has ${[...alertFields].join(', ')}`;
  if (root === 'run' && !runFields.has(key)) return `unknown reference "${token}": run has ${[...runFields].join(', ')}`;
  if (root === 'approval' && !approvalFields.has(key))
    return `unknown reference "${token}": approval has ${[...approvalFields].join(', ')}`;
  const filters: TemplateFilter[] = [];
  let rest = inner.slice(parsed[0].length);
  while (rest !== '') {
    const name = filterName.exec(rest);
    if (!name) return `"${token}": expected | and a filter after ${root}.${key}`;
    rest = rest.slice(name[0].length);
    const argument = stringArgument.exec(rest);
    if (argument) rest = rest.slice(argument[0].length);
    if (name[1] === 'default' && argument?.[1] !== undefined) filters.push({ name: 'default', text: unquoteArgument(argument[1]) });
    else if (name[1] === 'host' && !argument && !rest.startsWith('(')) filters.push({ name: 'host' });
    else if (name[1] === 'default' || name[1] === 'host') return `"${token}": write ${filterSyntax[name[1]]}`;
    else return `"${token}": unknown filter "${name[1] ?? ''}" (known: ${Object.values(filterSyntax).join(', ')})`;
  }
  return { root, key, filters, text: token };
}

/** The text of a quoted filter argument: a backslash keeps the character after it (a quote, a backslash). */
function unquoteArgument(literal: string): string {
  return literal.slice(1, -1).replace(/\\(.)/g, '$1');
}
