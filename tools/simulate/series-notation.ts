import { parseLabelMatchers } from '../../src/core/label-matcher.js';

/** One sample of an input series: a value, or none at that step (`_`, and `stale`: see docs/playbook-tests.md). */
export type SeriesValue = number | undefined;

/** The outcome of parsing a test's series: never throws. */
export type SeriesParse<T> = { success: true; value: T } | { success: false; error: string };

const number = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?Inf|NaN`;
const expanding = new RegExp(String.raw`^(${number})(?:([-+])(${number.replace(/\[-\+\]\?/g, '')}))?x(\d+)$`);
const single = new RegExp(`^(?:${number})$`);
const missing = /^_(?:x(\d+))?$/;
/** A test may not make Prometheus store more than this many samples of one series (a typo like 1x100000000). */
const maxSamples = 100_000;

function parseNumber(text: string): number {
  if (/^[-+]?Inf$/.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

/**
 * Expands promtool's value notation (`1 2 3`, `1+1x3` = 1 2 3 4, `5-1x2` = 5 4 3, `0x4`, `_`, `_x3` = three gaps, `stale`) into
 * one value per interval step, as `promtool test rules` does for `input_series`.
 */
export function expandSeriesValues(text: string): SeriesParse<SeriesValue[]> {
  const values: SeriesValue[] = [];
  for (const token of text
    .trim()
    .split(/\s+/)
    .filter((part) => part !== '')) {
    const gap = missing.exec(token);
    const expand = gap ? undefined : expanding.exec(token);
    let next: SeriesValue[];
    if (token === 'stale') next = [undefined];
    else if (gap) next = new Array<SeriesValue>(gap[1] === undefined ? 1 : Number(gap[1])).fill(undefined);
    else if (expand) {
      const start = parseNumber(expand[1] ?? '0');
      const step = expand[3] === undefined ? 0 : parseNumber(expand[3]) * (expand[2] === '-' ? -1 : 1);
      const count = Number(expand[4]);
      if (count + 1 > maxSamples) return { success: false, error: `"${token}" expands to more than ${maxSamples} samples` };
      next = Array.from({ length: count + 1 }, (_unused, index) => start + step * index);
    } else if (single.test(token)) next = [parseNumber(token)];
    else return { success: false, error: `"${token}" is not a value (1, 1+2x3, 0x5, _, _x2 or stale)` };
    if (values.length + next.length > maxSamples) return { success: false, error: `more than ${maxSamples} samples` };
    values.push(...next);
  }
  if (values.length === 0) return { success: false, error: 'no values' };
  return { success: true, value: values };
}

/** A series' identity: its metric name and labels. */
export interface SeriesLabels {
  name: string;
  labels: Record<string, string>;
}

/** Parses a series like `remediator_member_up{cluster="cache", role="replica"}` (only `=`, a metric name required). */
export function parseSeriesSelector(text: string): SeriesParse<SeriesLabels> {
  const trimmed = text.trim();
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(trimmed)?.[0];
  if (name === undefined) return { success: false, error: `"${text}" does not start with a metric name` };
  const rest = trimmed.slice(name.length).trim();
  if (rest !== '' && !rest.startsWith('{')) return { success: false, error: `"${text}": labels go in braces after the metric name` };
  if (rest === '') return { success: true, value: { name, labels: {} } };
  const parsed = parseLabelMatchers(rest);
  if (!parsed.success) return { success: false, error: `"${text}": ${parsed.errors.join('; ')}` };
  const labels: Record<string, string> = {};
  for (const matcher of parsed.matchers) {
    if (matcher.op !== '=')
      return { success: false, error: `"${text}": a series has labels (name="value"), not matchers like ${matcher.op}` };
    if (matcher.name === '__name__') return { success: false, error: `"${text}": give the metric name before the braces` };
    labels[matcher.name] = matcher.value;
  }
  return { success: true, value: { name, labels } };
}
