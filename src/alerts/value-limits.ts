import type { CutValueKind } from '../metrics/create-metrics.js';
import type { WebhookAlert, WebhookPayload } from './webhook-schema.js';

/** UTF-8 byte limits on what an alert brings into a stored run. */
export interface ValueLimits {
  /** Each label value. */
  labelBytes: number;
  /** Each annotation value, and each other free text (generatorURL, receiver, groupKey, externalURL). */
  annotationBytes: number;
  /** All label and annotation values of one alert together, labels first. */
  alertBytes: number;
}

/** A value cut to its limit: the first bytes, then a marker saying how many went. */
export interface CutText {
  text: string;
  /** UTF-8 bytes of the original text that were kept. */
  keptBytes: number;
  cutBytes: number;
}

const encoder = new TextEncoder();

/**
 * Cuts `text` to at most `limit` UTF-8 bytes, on a character boundary, and appends `…[cut N bytes]`; undefined when
 * it fits. A lone surrogate counts as the three bytes of the U+FFFD it is written as, and is kept as it was.
 */
export function cutText(text: string, limit: number): CutText | undefined {
  // A UTF-16 unit is at most three UTF-8 bytes: most values fit without being measured.
  if (text.length * 3 <= limit) return undefined;
  const bytes = Buffer.byteLength(text);
  if (bytes <= limit) return undefined;
  // encodeInto writes whole characters only: `read` units of the text are exactly the ones that fit.
  const { read, written } = encoder.encodeInto(text, new Uint8Array(limit));
  const cutBytes = bytes - written;
  return { text: `${text.slice(0, read)}…[cut ${cutBytes} bytes]`, keptBytes: written, cutBytes };
}

/** The values kept of an alert or of a webhook's envelope, and which were cut. */
interface Limited {
  /** Paths of the values that were cut, as run data stores them: `labels.NAME`, `annotations.NAME`, `generatorURL`, …. */
  cut: string[];
  /** How many values of each kind were cut. */
  counts: Record<CutValueKind, number>;
}

/** What limitAlertValues kept of an alert. */
export interface LimitedAlert extends Limited {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL?: string;
}

/** What limitEnvelopeValues kept of the fields of a webhook that each of its runs stores. */
export interface LimitedEnvelope extends Limited {
  receiver: string;
  groupKey?: string;
  externalURL?: string;
}

const noCuts = (): Limited => ({ cut: [], counts: { label: 0, annotation: 0, other: 0 } });

/** Cuts a free-text field to the annotation limit, noting it in `into`. */
function limitOther(name: string, value: string | undefined, limits: ValueLimits, into: Limited): string | undefined {
  if (value === undefined) return undefined;
  const limited = cutText(value, limits.annotationBytes);
  if (!limited) return value;
  into.cut.push(name);
  into.counts.other += 1;
  return limited.text;
}

/** At most how many UTF-8 bytes the values of a set take (three per UTF-16 unit); Infinity when one may exceed `perValue`. */
function upperBytes(values: Readonly<Record<string, string>>, perValue: number): number {
  let total = 0;
  for (const name in values) {
    const bytes = (values[name]?.length ?? 0) * 3;
    if (bytes > perValue) return Number.POSITIVE_INFINITY;
    total += bytes;
  }
  return total;
}

/**
 * Applies the limits to one alert. Labels are measured before annotations, so that annotation text never cuts a
 * label; a set with nothing cut is returned as it came. The caller keeps the original labels for the fingerprint and
 * for matching playbooks.
 */
export function limitAlertValues(alert: WebhookAlert, limits: ValueLimits): LimitedAlert {
  const limited = noCuts();
  // Nearly every alert is far within every limit even at three bytes per UTF-16 unit: no value needs measuring.
  if (upperBytes(alert.labels, limits.labelBytes) + upperBytes(alert.annotations, limits.annotationBytes) <= limits.alertBytes) {
    return withGeneratorURL(
      { cut: limited.cut, counts: limited.counts, labels: alert.labels, annotations: alert.annotations },
      alert,
      limits,
    );
  }
  let budget = limits.alertBytes;
  const limitSet = (values: Record<string, string>, root: 'labels' | 'annotations', perValue: number): Record<string, string> => {
    let changed: Record<string, string> | undefined;
    for (const name of Object.keys(values)) {
      const value = values[name] ?? '';
      const cut = cutText(value, Math.min(perValue, Math.max(budget, 0)));
      budget -= cut ? cut.keptBytes : Buffer.byteLength(value);
      if (!cut) continue;
      // A copy made with fromEntries, so that a `__proto__` name stays an own property.
      changed ??= Object.fromEntries(Object.entries(values));
      changed[name] = cut.text;
      limited.cut.push(`${root}.${name}`);
      limited.counts[root === 'labels' ? 'label' : 'annotation'] += 1;
    }
    return changed ?? values;
  };
  const labels = limitSet(alert.labels, 'labels', limits.labelBytes);
  const annotations = limitSet(alert.annotations, 'annotations', limits.annotationBytes);
  return withGeneratorURL({ cut: limited.cut, counts: limited.counts, labels, annotations }, alert, limits);
}

/** Adds the alert's generatorURL, cut to the annotation limit. Built field by field: object spread here cost microseconds per alert. */
function withGeneratorURL(limited: LimitedAlert, alert: WebhookAlert, limits: ValueLimits): LimitedAlert {
  const generatorURL = limitOther('generatorURL', alert.generatorURL, limits, limited);
  if (generatorURL !== undefined) limited.generatorURL = generatorURL;
  return limited;
}

/** Applies the annotation limit to the webhook's own text that every one of its runs stores. */
export function limitEnvelopeValues(
  payload: Pick<WebhookPayload, 'receiver' | 'groupKey' | 'externalURL'>,
  limits: ValueLimits,
): LimitedEnvelope {
  const limited = noCuts();
  const receiver = limitOther('receiver', payload.receiver, limits, limited) ?? payload.receiver;
  const groupKey = limitOther('groupKey', payload.groupKey, limits, limited);
  const externalURL = limitOther('externalURL', payload.externalURL, limits, limited);
  return { ...limited, receiver, ...(groupKey === undefined ? {} : { groupKey }), ...(externalURL === undefined ? {} : { externalURL }) };
}
