const simpleEscapes: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
};

/**
 * Decodes a PromQL string literal (double-, single- or back-quoted) the way Prometheus does (Go's unquote rules).
 * Throws on a malformed escape.
 */
export function unquotePromqlString(literal: string): string {
  const quote = literal[0];
  if (literal.length < 2 || literal.at(-1) !== quote) throw new Error(`unterminated string ${literal}`);
  const body = literal.slice(1, -1);
  if (quote === '`') return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const char = body[i] ?? '';
    if (char !== '\\') {
      out += char;
      continue;
    }
    const next = body[++i] ?? '';
    const simple = simpleEscapes[next];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    const hexLength = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
    if (hexLength > 0) {
      const hex = body.slice(i + 1, i + 1 + hexLength);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) throw new Error(`bad escape \\${next}${hex}`);
      out += String.fromCodePoint(Number.parseInt(hex, 16));
      i += hexLength;
      continue;
    }
    const octal = body.slice(i, i + 3);
    if (/^[0-7]{3}$/.test(octal)) {
      out += String.fromCharCode(Number.parseInt(octal, 8));
      i += 2;
      continue;
    }
    throw new Error(`unknown escape \\${next}`);
  }
  return out;
}

/**
 * Escapes text for use inside a PromQL string literal quoted with `quote`. Only that quote is escaped: Prometheus
 * rejects `\'` inside double quotes (and `\"` inside single ones) as an unknown escape sequence.
 */
export function escapePromqlString(value: string, quote: '"' | "'" = '"'): string {
  const special = quote === '"' ? /[\\"\n\r\t]/g : /[\\'\n\r\t]/g;
  return value.replace(special, (char) => (char === '\n' ? '\\n' : char === '\r' ? '\\r' : char === '\t' ? '\\t' : `\\${char}`));
}
