import { isTemplated, templateStrings, type TemplateEscape } from '../core/template/template.js';

/** A problem in an http step's `with:` block, at a path below it. */
type RawProblem = { path: (string | number)[]; message: string };

/** The formats a string body is read in, by its Content-Type. */
type BodyFormat = 'form' | 'json' | 'multipart' | 'other';

/** The Content-Type of an HTML form's fields, as `form:` sends them. */
export const formContentType = 'application/x-www-form-urlencoded';

/** The Content-Type headers in a raw `headers:` block (names are case-insensitive), with the name as written. */
function contentTypeHeaders(headers: unknown): { name: string; value: unknown }[] {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return [];
  return Object.entries(headers as Record<string, unknown>)
    .filter(([name]) => name.toLowerCase() === 'content-type')
    .map(([name, value]) => ({ name, value }));
}

/** How a receiver reads a body of this Content-Type value. */
export function bodyFormat(contentType: string): BodyFormat {
  const media = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (media === formContentType) return 'form';
  if (media === 'application/json' || /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+\+json$/.test(media)) return 'json';
  if (media.startsWith('multipart/')) return 'multipart';
  return 'other';
}

/** The Content-Type value written in a raw `headers:` block, when there is exactly one and it is literal text. */
export function writtenContentType(headers: unknown): string | undefined {
  const found = contentTypeHeaders(headers);
  const value = found.length === 1 ? found[0]?.value : undefined;
  return typeof value === 'string' && !isTemplated(value) ? value : undefined;
}

/**
 * The escape of a templated string body, from the Content-Type written in the playbook: values are form-encoded
 * in a form and JSON-escaped in JSON, so a label can add neither a form field nor a key. An object body is
 * serialized after rendering and needs no escape.
 */
export function bodyEscape(raw: Readonly<Record<string, unknown>>): TemplateEscape {
  if (typeof raw.body !== 'string') return 'raw';
  const contentType = writtenContentType(raw.headers);
  const format = contentType === undefined ? 'other' : bodyFormat(contentType);
  return format === 'form' ? 'form' : format === 'json' ? 'json' : 'raw';
}

/**
 * Load-time rules on the http step's templated values:
 * - the Content-Type is written in the playbook, once: it decides how the body's values are escaped, so a label
 *   must not choose it;
 * - a templated string body declares its Content-Type: without one the receiver may read the body as a form
 *   (fetch labels it text/plain, and many form parsers do not look), where a value could add a field;
 * - no templated string body for multipart (a value could forge a part boundary): use `form:` or an object;
 * - secret references are written in the playbook: a label must not choose which file or variable is sent.
 */
export function checkHttpTemplates(raw: Readonly<Record<string, unknown>>): RawProblem[] {
  const problems: RawProblem[] = [];
  const contentTypes = contentTypeHeaders(raw.headers);
  if (contentTypes.length > 1)
    problems.push({
      path: ['headers'],
      message: `Content-Type is given ${contentTypes.length} times (${contentTypes.map(({ name }) => name).join(', ')})`,
    });
  for (const { name, value } of contentTypes) {
    if (typeof value === 'string' && isTemplated(value))
      problems.push({
        path: ['headers', name],
        message: 'Content-Type must not be templated: it decides how the body is read and how values in it are escaped',
      });
  }
  if (typeof raw.body === 'string' && isTemplated(raw.body)) {
    const contentType = writtenContentType(raw.headers);
    if (contentType === undefined && contentTypes.length === 0) {
      problems.push({
        path: ['body'],
        message: `a templated string body needs a Content-Type header (${formContentType}: values are form-encoded; application/json: JSON-escaped; anything else: sent as they are), or use form: or an object body`,
      });
    } else if (contentType !== undefined && bodyFormat(contentType) === 'multipart') {
      problems.push({
        path: ['body'],
        message: 'a templated multipart body could get a forged part boundary from a value: use form: or an object body (JSON)',
      });
    }
  }
  for (const { path } of templateStrings(raw.secretHeaders, ['secretHeaders'])) {
    problems.push({
      path,
      message: 'a secret reference must not be templated: a label must not choose which file or variable is read and sent',
    });
  }
  return problems;
}
