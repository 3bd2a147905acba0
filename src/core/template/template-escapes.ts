import { AppError, errorCodes } from '../errors/index.js';
import { escapePromqlString } from '../promql/unquote.js';

/**
 * How a value is inserted into a field, so that a label can change the field's data but never its structure:
 * - `raw` as is;
 * - `url` percent-encoded (no added path segment or query), and no `.`/`..` path segment made of a value;
 * - `promql` escaped for the PromQL string literal it stands in, a bare number/duration/name outside one;
 * - `path` as is, but a value may not make the path absolute, a `..` segment or carry a NUL;
 * - `address` only letters, digits and `. _ + -` (no `%` or `!` relay routing, no second `@`);
 * - `form` form-encoded as URLSearchParams does (no added field);
 * - `json` JSON-escaped inside a string literal, a bare number/true/false/null outside one.
 */
export type TemplateEscape = 'raw' | 'url' | 'promql' | 'path' | 'address' | 'form' | 'json';

/** Where one substituted value landed in the rendered field, as offsets. */
export interface InsertedValue {
  readonly start: number;
  readonly end: number;
}

/** How one escape kind inserts values and checks the result. */
interface EscapeRule {
  /**
   * Whether a field that is exactly one reference gets its value as is (a whole URL from an annotation). False
   * where the field's structure is what the escape guards, so a whole value is checked like any other.
   */
  readonly wholeValueAsIs: boolean;
  /** The value as inserted; `literalBefore` is the field's own text before it (references left out). */
  insert(value: string, literalBefore: string, whole: boolean): string;
  /** Checks the rendered field once every value is in, knowing where each landed. */
  check?(rendered: string, values: readonly InsertedValue[]): void;
}

const refuse = (message: string): never => {
  throw new AppError(errorCodes.TEMPLATE_UNKNOWN_REFERENCE, message);
};

const quoted = (value: string) => JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);

const overlaps = (values: readonly InsertedValue[], start: number, end: number) =>
  values.some((value) => value.start < end && value.end > start);

/** The string quote open at the end of `text`, skipping backslash escapes (none exist inside `quotes` listed as raw). */
function quoteOpenAt(text: string, quotes: string, rawQuotes = ''): string | undefined {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (quote === undefined) {
      if (quotes.includes(char)) quote = char;
    } else if (char === '\\' && !rawQuotes.includes(quote)) i++;
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
function escapePromql(value: string, literalBefore: string): string {
  const quote = quoteOpenAt(literalBefore, '"\'`', '`');
  if (quote === '"' || quote === "'") return escapePromqlString(value, quote);
  if (quote === '`') {
    if (value.includes('`')) refuse('a value with a backtick cannot be inserted into a `raw` PromQL string');
    return value;
  }
  if (!promqlBareToken.test(value)) {
    refuse(
      `${quoted(value)} cannot be inserted outside a PromQL string literal: only numbers, durations and names can (quote the reference)`,
    );
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
function refuseUrlDotSegments(rendered: string, values: readonly InsertedValue[]): void {
  const scheme = rendered.indexOf('://');
  const pathStart = scheme < 0 ? 0 : rendered.indexOf('/', scheme + 3);
  if (pathStart < 0) return;
  const pathEnd = rendered.slice(pathStart).search(/[?#]/);
  let start = pathStart;
  for (const segment of rendered.slice(pathStart, pathEnd < 0 ? undefined : pathStart + pathEnd).split('/')) {
    const end = start + segment.length;
    if (dotSegment.test(segment) && overlaps(values, start, end)) {
      refuse(`a value that makes the URL path segment "${segment}" cannot be inserted: it would change the request's path`);
    }
    start = end + 1;
  }
}

/**
 * A file system path: `cwd: /srv/{{ labels.dir }}` must stay under /srv. A value may not make a `..` segment (even
 * with text around it), nor make the path absolute (a whole value `/etc`, or an empty one before a written `/`);
 * `..` written in the playbook is the author's.
 */
function refusePathEscapes(rendered: string, values: readonly InsertedValue[]): void {
  if (rendered.startsWith('/') && values.some((value) => value.start === 0)) {
    refuse(
      `a value that makes the path ${quoted(rendered)} absolute cannot be inserted: paths from labels stay relative to the directory the playbook names`,
    );
  }
  let start = 0;
  for (const segment of rendered.split('/')) {
    const end = start + segment.length;
    if (segment === '..' && overlaps(values, start, end)) {
      refuse(
        `a value that makes a ".." segment in the path ${quoted(rendered)} cannot be inserted: it would leave the directory the playbook names`,
      );
    }
    start = end + 1;
  }
}

/** What a value inside an address may contain: no `%` or `!` (relay routing), `@`, quotes, spaces or separators. */
const addressValue = /^[A-Za-z0-9._+-]+$/;
const localPart = /^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$/;
const domainLabel = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const domain = new RegExp(`^${domainLabel}(?:\\.${domainLabel})*$`);

/**
 * An address with a value in it: the part a value touches must be a dot-atom local part (no leading, trailing
 * or double dot, which the mail library would send quoted) or a host name (labels of letters, digits and inner
 * hyphens). Parts written entirely in the playbook keep the author's spelling.
 */
function checkAddress(rendered: string, values: readonly InsertedValue[]): void {
  const at = rendered.indexOf('@');
  // No single @: the action's schema reports that the field is not one address.
  if (at < 0 || rendered.indexOf('@', at + 1) >= 0) return;
  if (overlaps(values, 0, at)) {
    if (!localPart.test(rendered.slice(0, at)))
      refuse(`a value makes the local part of ${quoted(rendered)} something other than letters, digits and . _ + - between dots`);
  }
  if (overlaps(values, at + 1, rendered.length)) {
    if (!domain.test(rendered.slice(at + 1)))
      refuse(
        `a value makes the domain of ${quoted(rendered)} something other than a host name (letters, digits, inner hyphens, dots between)`,
      );
  }
}

function insertAddress(value: string, whole: boolean): string {
  if (whole) {
    // Checked as a whole address by checkAddress: only its @ may come from outside the safe set.
    const at = value.indexOf('@');
    if (at < 0 || !addressValue.test(value.slice(0, at)) || !addressValue.test(value.slice(at + 1))) {
      refuse(`${quoted(value)} cannot be used as an address: one local@domain made of letters, digits and . _ + - only`);
    }
    return value;
  }
  if (!addressValue.test(value)) refuse(`${quoted(value)} cannot be inserted into an address: letters, digits and . _ + - only`);
  return value;
}

/** A JSON number or literal: what may stand outside a string literal without adding a key or an element. */
const jsonBareToken = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)$/;

function escapeJson(value: string, literalBefore: string): string {
  if (quoteOpenAt(literalBefore, '"') === '"') return JSON.stringify(value).slice(1, -1);
  if (!jsonBareToken.test(value)) {
    refuse(
      `${quoted(value)} cannot be inserted outside a JSON string literal: only a number, true, false or null can (quote the reference, or send the body as an object)`,
    );
  }
  return value;
}

const rules: Readonly<Record<TemplateEscape, EscapeRule>> = {
  raw: { wholeValueAsIs: true, insert: (value) => value },
  url: { wholeValueAsIs: true, insert: (value) => encodeURIComponent(value), check: refuseUrlDotSegments },
  promql: { wholeValueAsIs: false, insert: (value, literalBefore) => escapePromql(value, literalBefore) },
  path: {
    wholeValueAsIs: false,
    insert: (value) => (value.includes('\0') ? refuse('a value with a NUL byte cannot be inserted into a path') : value),
    check: refusePathEscapes,
  },
  address: { wholeValueAsIs: false, insert: (value, _literalBefore, whole) => insertAddress(value, whole), check: checkAddress },
  // As application/x-www-form-urlencoded serializes a value: `&`, `=` and `+` cannot start another field.
  form: { wholeValueAsIs: false, insert: (value) => new URLSearchParams([['', value]]).toString().slice(1) },
  json: { wholeValueAsIs: false, insert: (value, literalBefore) => escapeJson(value, literalBefore) },
};

/** The rule of one escape kind. */
export function escapeRule(escape: TemplateEscape): EscapeRule {
  return rules[escape];
}
