import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cutLabelReferences } from '../../src/core/run-data.js';
import { cutText, limitAlertValues, limitEnvelopeValues } from '../../src/alerts/value-limits.js';
import { webhookAlertSchema } from '../../src/alerts/webhook-schema.js';
import { errorCodes } from '../../src/core/errors/index.js';
import { renderString, type TemplateContext } from '../../src/core/template/template.js';

const limits = { labelBytes: 4 * 1024, annotationBytes: 16 * 1024, alertBytes: 64 * 1024 };
const bytesOf = (text: string) => Buffer.byteLength(text);

describe('cutText', () => {
  test('leaves a value within the limit alone, up to exactly the limit', () => {
    assert.equal(cutText('x'.repeat(100), 100), undefined);
    assert.equal(cutText('€'.repeat(33), 100), undefined, '99 bytes');
  });

  test('keeps the first bytes on a character boundary and says how many went', () => {
    const euros = '€'.repeat(40); // 120 bytes, 3 each: 100 bytes hold 33 of them
    assert.deepEqual(cutText(euros, 100), { text: `${'€'.repeat(33)}…[cut 21 bytes]`, keptBytes: 99, cutBytes: 21 });
    const emoji = `ab${'\u{1F525}'.repeat(10)}`; // 2 + 40 bytes
    assert.deepEqual(cutText(emoji, 9), { text: `ab\u{1F525}…[cut 36 bytes]`, keptBytes: 6, cutBytes: 36 });
  });

  test('a limit of zero keeps only the marker', () => {
    assert.deepEqual(cutText('abc', 0), { text: '…[cut 3 bytes]', keptBytes: 0, cutBytes: 3 });
  });
});

describe('limitAlertValues', () => {
  const alert = (labels: Record<string, string>, annotations: Record<string, string> = {}) =>
    webhookAlertSchema.parse({
      status: 'firing',
      labels,
      annotations,
      startsAt: '2026-11-22T03:00:00Z',
      generatorURL: 'http://prometheus/graph',
    });

  test('returns the label and annotation sets as they came when nothing is over a limit', () => {
    const input = alert({ alertname: 'A', instance: 'db-1' }, { summary: 'down' });
    const limited = limitAlertValues(input, limits);
    assert.equal(limited.labels, input.labels);
    assert.equal(limited.annotations, input.annotations);
    assert.deepEqual(limited.cut, []);
    assert.deepEqual(limited.counts, { label: 0, annotation: 0, other: 0 });
  });

  test('cuts each value to its own limit and names what was cut, counting labels and annotations apart', () => {
    const input = alert({ alertname: 'A', instance: 'i'.repeat(5000) }, { summary: 'ok', description: 'd'.repeat(20_000) });
    const limited = limitAlertValues(input, limits);
    assert.equal(limited.labels.instance, `${'i'.repeat(4096)}…[cut 904 bytes]`);
    assert.equal(limited.annotations.description, `${'d'.repeat(16_384)}…[cut 3616 bytes]`);
    assert.equal(limited.labels.alertname, 'A');
    assert.deepEqual(limited.cut, ['labels.instance', 'annotations.description']);
    assert.deepEqual(limited.counts, { label: 1, annotation: 1, other: 0 });
    assert.equal(input.labels.instance, 'i'.repeat(5000), 'the alert itself is not changed: its fingerprint and matching use it');
  });

  test('all values of an alert share one budget, spent on labels first, so annotations are cut before any label', () => {
    const annotations = Object.fromEntries(Array.from({ length: 6 }, (_unused, index) => [`a${index}`, 'x'.repeat(16 * 1024)]));
    const limited = limitAlertValues(alert({ alertname: 'A', instance: 'db-1' }, annotations), limits);
    const kept = [...Object.values(limited.labels), ...Object.values(limited.annotations)].reduce(
      (sum, value) => sum + bytesOf(value.replace(/…\[cut \d+ bytes\]$/, '')),
      0,
    );
    assert.equal(kept, limits.alertBytes);
    assert.deepEqual(limited.labels, { alertname: 'A', instance: 'db-1' });
    assert.equal(limited.annotations.a3, `${'x'.repeat(16 * 1024 - 5)}…[cut 5 bytes]`, 'the fourth annotation takes what the labels left');
    assert.equal(limited.annotations.a4, `…[cut ${16 * 1024} bytes]`);
    assert.deepEqual(limited.cut, ['annotations.a3', 'annotations.a4', 'annotations.a5']);
  });

  test('a cut __proto__ label stays an own property of a plain object', () => {
    const labels = JSON.parse(`{ "alertname": "A", "__proto__": "${'p'.repeat(5000)}" }`) as Record<string, string>;
    const limited = limitAlertValues(alert(labels), limits);
    assert.equal(Object.getPrototypeOf(limited.labels), Object.prototype);
    assert.ok(Object.hasOwn(limited.labels, '__proto__'));
    assert.match(Object.getOwnPropertyDescriptor(limited.labels, '__proto__')?.value as string, /…\[cut 904 bytes\]$/);
  });

  test('the generatorURL and the envelope text a run stores are cut to the annotation limit', () => {
    const input = { ...alert({ alertname: 'A' }), generatorURL: `http://p/${'g'.repeat(20_000)}` };
    assert.deepEqual(limitAlertValues(input, limits).cut, ['generatorURL']);
    const envelope = limitEnvelopeValues({ receiver: 'r'.repeat(20_000), groupKey: '{}', externalURL: 'http://am' }, limits);
    assert.match(envelope.receiver, /^r{16384}…\[cut 3616 bytes\]$/);
    assert.equal(envelope.groupKey, '{}');
    assert.deepEqual(envelope.cut, ['receiver']);
    assert.deepEqual(envelope.counts, { label: 0, annotation: 0, other: 1 });
  });
});

describe('a template reference to a cut label', () => {
  const context: TemplateContext = {
    labels: { instance: 'i…[cut 9 bytes]', cluster: 'db' },
    annotations: { description: 'd…[cut 9 bytes]' },
    alert: { fingerprint: 'f', status: 'firing', startsAt: '2026-11-22T03:00:00Z' },
    run: { id: 'r', playbook: 'p', target: 't' },
    cut: cutLabelReferences(['labels.instance', 'annotations.description', 'receiver']),
  };

  test('fails to render with a clear message; uncut labels and cut annotations still render', () => {
    assert.throws(
      () => renderString('ssh {{ labels.instance }}', context),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, errorCodes.TEMPLATE_UNKNOWN_REFERENCE);
        assert.equal(
          error.message,
          '{{ labels.instance }} was cut on intake (longer than its size limit): a cut value is never used in a template',
        );
        return true;
      },
    );
    assert.equal(renderString('{{ labels.cluster }}: {{ annotations.description }}', context), 'db: d…[cut 9 bytes]');
  });
});
