import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  alertFingerprint,
  isRfc3339,
  parseWebhook,
  webhookAlertSchema,
  webhookSchema,
  type WebhookAlert,
} from '../../src/alerts/webhook-schema.js';

/** A body as Alertmanager 0.25 posts it, copied from a real delivery (nanosecond startsAt, zero endsAt). */
const alertmanagerBody = `{
  "receiver": "remediator",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": { "alertname": "InstanceDown", "cluster": "stream", "instance": "stream-1:9100", "job": "node", "role": "primary" },
      "annotations": { "summary": "stream-1:9100 has been down for 1m" },
      "startsAt": "2026-11-22T03:00:00.123456789Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
      "fingerprint": "c3b5a2f1e0d9c8b7"
    }
  ],
  "groupLabels": { "alertname": "InstanceDown", "cluster": "stream" },
  "commonLabels": { "alertname": "InstanceDown", "cluster": "stream", "instance": "stream-1:9100", "job": "node", "role": "primary" },
  "commonAnnotations": { "summary": "stream-1:9100 has been down for 1m" },
  "externalURL": "http://alertmanager:9093",
  "version": "4",
  "groupKey": "{}:{alertname=\\"InstanceDown\\", cluster=\\"stream\\"}",
  "truncatedAlerts": 0
}`;

function parseBody(text: string) {
  return webhookSchema.safeParse(JSON.parse(text));
}

function alert(overrides: Partial<WebhookAlert> = {}): WebhookAlert {
  return webhookAlertSchema.parse({ status: 'firing', labels: { alertname: 'A' }, startsAt: '2026-11-22T03:00:00Z', ...overrides });
}

describe('webhookSchema', () => {
  test('accepts a real Alertmanager 0.25 body with nanosecond timestamps and a zero endsAt', () => {
    const result = parseBody(alertmanagerBody);
    assert.ok(result.success, JSON.stringify(result.error?.issues));
    assert.equal(result.data.alerts.length, 1);
    const first = result.data.alerts[0];
    assert.ok(first);
    assert.equal(first.labels.instance, 'stream-1:9100');
    assert.equal(first.annotations.summary, 'stream-1:9100 has been down for 1m');
    assert.equal(first.startsAt, '2026-11-22T03:00:00.123456789Z');
    assert.equal(first.endsAt, '0001-01-01T00:00:00Z');
    assert.equal(first.fingerprint, 'c3b5a2f1e0d9c8b7');
    assert.equal(result.data.truncatedAlerts, 0);
  });

  test('tolerates fields it does not know, such as notification_reason', () => {
    const body = JSON.parse(alertmanagerBody) as Record<string, unknown>;
    body.notification_reason = 'repeat';
    (body.alerts as Record<string, unknown>[])[0] = { ...(body.alerts as Record<string, unknown>[])[0], silencedBy: [] };
    const result = webhookSchema.safeParse(body);
    assert.ok(result.success, JSON.stringify(result.error?.issues));
    assert.equal(result.data.alerts[0]?.labels.alertname, 'InstanceDown');
  });

  test('missing annotations and label sets default to empty objects', () => {
    const result = webhookSchema.safeParse({
      receiver: 'r',
      status: 'resolved',
      alerts: [{ status: 'resolved', labels: { alertname: 'A' }, startsAt: '2026-11-22T03:00:00Z' }],
    });
    assert.ok(result.success, JSON.stringify(result.error?.issues));
    assert.deepEqual(result.data.alerts[0]?.annotations, {});
    assert.deepEqual(result.data.commonLabels, {});
  });

  test('rejects wrong types, naming the path of each', () => {
    const result = webhookSchema.safeParse({
      receiver: 7,
      status: 'burning',
      alerts: [{ status: 'firing', labels: { instance: 1 }, annotations: 'none', startsAt: 'yesterday' }],
    });
    assert.ok(!result.success);
    const paths = result.error.issues.map((issue) => issue.path.join('.')).sort();
    assert.deepEqual(paths, ['alerts.0.annotations', 'alerts.0.labels.instance', 'alerts.0.startsAt', 'receiver', 'status']);
    const labelIssue = result.error.issues.find((issue) => issue.path.join('.') === 'alerts.0.labels.instance');
    assert.equal(labelIssue?.message, 'must be a string');
  });

  test('rejects a body without alerts and labels that are an array', () => {
    assert.equal(webhookSchema.safeParse({ receiver: 'r', status: 'firing' }).success, false);
    const result = webhookAlertSchema.safeParse({ status: 'firing', labels: ['a'], startsAt: '2026-11-22T03:00:00Z' });
    assert.ok(!result.success);
    assert.deepEqual(result.error.issues[0]?.path, ['labels']);
  });

  test('a __proto__ label stays an own property and changes no prototype', () => {
    const body = JSON.parse(alertmanagerBody) as { alerts: { labels: Record<string, unknown> }[] };
    const withProto = JSON.parse('{ "__proto__": "x", "alertname": "InstanceDown" }') as Record<string, unknown>;
    const first = body.alerts[0];
    assert.ok(first);
    first.labels = withProto;
    const result = webhookSchema.safeParse(body);
    assert.ok(result.success, JSON.stringify(result.error?.issues));
    const labels = result.data.alerts[0]?.labels;
    assert.ok(labels);
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
    assert.ok(Object.hasOwn(labels, '__proto__'));
    assert.equal(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value, 'x');
    assert.deepEqual(Object.keys(labels).sort(), ['__proto__', 'alertname']);
  });

  test('an object under __proto__ is rejected and pollutes nothing', () => {
    const text =
      '{ "receiver": "r", "status": "firing", "alerts": [ { "status": "firing", "startsAt": "2026-11-22T03:00:00Z", "labels": { "__proto__": { "polluted": "yes" } }, "annotations": { "__proto__": { "polluted": "yes" } } } ] }';
    const result = parseBody(text);
    assert.ok(!result.success);
    assert.deepEqual(result.error.issues.map((issue) => issue.path.join('.')).sort(), [
      'alerts.0.annotations.__proto__',
      'alerts.0.labels.__proto__',
    ]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
  });
});

describe('alert timestamps', () => {
  const startsAtIssue = (startsAt: unknown) =>
    webhookAlertSchema
      .safeParse({ status: 'firing', labels: { alertname: 'A' }, startsAt })
      .error?.issues.find((issue) => issue.path.join('.') === 'startsAt')?.message;

  test('take full RFC 3339 date-times as Go writes them: Z or an offset, up to nine fraction digits', () => {
    for (const text of [
      '2026-11-22T03:00:00Z',
      '2026-11-22T03:00:00.123456789Z',
      '2026-11-22T03:00:00.5+05:30',
      '2024-02-29T23:59:59-12:00',
      '0001-01-01T00:00:00Z',
    ]) {
      assert.equal(isRfc3339(text), true, text);
    }
  });

  test('refuse what Date.parse takes but RFC 3339 does not: a bare number, a date alone, no offset, an impossible day, a leap second', () => {
    for (const text of [
      '1',
      '2026',
      '2026-11-22',
      '2026-11-22 03:00:00Z',
      '2026-11-22T03:00:00',
      '2026-11-22T03:00Z',
      '2026-02-30T00:00:00Z',
      '2025-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-11-22T24:00:00Z',
      '2026-11-22T03:00:60Z',
      '2026-11-22T03:00:00+0530',
      '2026-11-22T03:00:00.1234567891Z',
      'Sun, 22 Nov 2026 03:00:00 GMT',
      ' 2026-11-22T03:00:00Z',
    ]) {
      assert.equal(isRfc3339(text), false, text);
      assert.equal(startsAtIssue(text), 'must be an RFC 3339 date-time such as 2026-11-22T03:00:00Z', text);
    }
    assert.equal(startsAtIssue(1_700_000_000), 'Invalid input: expected string, received number');
    for (const lenient of ['1', '2026-11-22', '2026-02-30T00:00:00Z', 'Sun, 22 Nov 2026 03:00:00 GMT'])
      assert.ok(!Number.isNaN(Date.parse(lenient)), `Date.parse takes ${lenient}`);
  });

  test("refuse Go's zero time as startsAt, in any spelling, and keep it valid as the endsAt Alertmanager sends on a firing alert", () => {
    for (const zero of ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z', '0001-01-01T01:00:00+01:00']) {
      assert.equal(startsAtIssue(zero), 'must not be the zero time 0001-01-01T00:00:00Z: the alert has no start', zero);
    }
    assert.equal(startsAtIssue('0001-01-01T00:00:00.001Z'), undefined, 'a millisecond after it is a time like any other');
    const firing = webhookAlertSchema.safeParse({
      status: 'firing',
      labels: { alertname: 'A' },
      startsAt: '2026-11-22T03:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
    });
    assert.ok(firing.success, JSON.stringify(firing.error?.issues));
    const badEnd = webhookAlertSchema.safeParse({
      status: 'resolved',
      labels: { alertname: 'A' },
      startsAt: '2026-11-22T03:00:00Z',
      endsAt: '1',
    });
    assert.deepEqual(
      badEnd.error?.issues.map((issue) => issue.path.join('.')),
      ['endsAt'],
    );
  });
});

describe('parseWebhook', () => {
  const body = (alerts: unknown[]) => ({ receiver: 'r', status: 'firing', alerts });

  test('accepts what webhookSchema accepts, with the same data', () => {
    const raw = JSON.parse(alertmanagerBody) as unknown;
    const parsed = parseWebhook(raw, 50);
    assert.ok(parsed.success);
    assert.deepEqual(parsed.data, webhookSchema.parse(raw));
  });

  test('lists every problem of the envelope and of each alert while there are fewer than the limit, with full paths', () => {
    const parsed = parseWebhook(
      {
        receiver: 7,
        status: 'firing',
        alerts: [
          { status: 'firing', labels: { alertname: 'A' }, startsAt: '2026-11-22T03:00:00Z' },
          { status: 'burning', labels: { a: 1 }, startsAt: '2026-11-22T03:00:00Z' },
        ],
      },
      50,
    );
    assert.ok(!parsed.success);
    assert.deepEqual(
      parsed.error.issues.map((issue) => issue.path.join('.')),
      ['receiver', 'alerts.1.status', 'alerts.1.labels.a'],
    );
    assert.equal(parsed.incomplete, false);
    assert.equal(parsed.uncheckedAlerts, 0);
  });

  test('stops at the limit: no alert after the one that reached it is even read, and it says how many were left', () => {
    const read = new Set<number>();
    // Empty alerts whose status getter records that the validator looked at them.
    const alerts = Array.from({ length: 5000 }, (_unused, index) =>
      Object.defineProperty({}, 'status', {
        enumerable: true,
        get: () => {
          read.add(index);
          return undefined;
        },
      }),
    );
    const parsed = parseWebhook(body(alerts), 30);
    assert.ok(!parsed.success);
    assert.equal(parsed.error.issues.length, 30);
    assert.equal(parsed.incomplete, true);
    const last = Math.max(...read);
    assert.deepEqual(
      [...read].sort((a, b) => a - b),
      Array.from({ length: last + 1 }, (_unused, index) => index),
      'alerts are read in order, none skipped',
    );
    assert.ok(last < 30, `alert ${last} was read: every alert has several issues, so fewer than 30 alerts reach 30 issues`);
    assert.equal(parsed.uncheckedAlerts, 5000 - read.size);
    assert.deepEqual(parsed.error.issues[0]?.path, ['alerts', 0, 'status']);
  });

  test('an envelope with as many problems as the limit checks no alert at all', () => {
    const labels = Object.fromEntries(Array.from({ length: 8 }, (_unused, index) => [`l${index}`, index]));
    const parsed = parseWebhook({ receiver: 1, status: 2, groupLabels: labels, commonLabels: labels, alerts: [{}, {}] }, 10);
    assert.ok(!parsed.success);
    assert.equal(parsed.error.issues.length, 10);
    assert.equal(parsed.uncheckedAlerts, 2);
    assert.ok(parsed.error.issues.every((issue) => issue.path[0] !== 'alerts'));
  });

  test('a label set of many bad values yields ten issues and one that counts the rest', () => {
    const labels = Object.fromEntries(Array.from({ length: 10_000 }, (_unused, index) => [`l${index}`, index]));
    const result = webhookAlertSchema.safeParse({ status: 'firing', labels, startsAt: '2026-11-22T03:00:00Z' });
    assert.ok(!result.success);
    assert.equal(result.error.issues.length, 11);
    assert.deepEqual(
      result.error.issues.slice(0, 10).map((issue) => issue.path.join('.')),
      Array.from({ length: 10 }, (_unused, index) => `labels.l${index}`),
    );
    assert.deepEqual(result.error.issues[10], { code: 'custom', message: 'and 9990 more values are not strings', path: ['labels'] });
  });
});

describe('alertFingerprint', () => {
  test("uses Alertmanager's fingerprint when the alert has one", () => {
    assert.equal(alertFingerprint(alert({ fingerprint: 'c3b5a2f1e0d9c8b7' })), 'c3b5a2f1e0d9c8b7');
  });

  test('without one, hashes the labels the same whatever their order', () => {
    const one = alertFingerprint(alert({ labels: { alertname: 'A', instance: 'x', job: 'node' } }));
    const other = alertFingerprint(alert({ labels: { job: 'node', instance: 'x', alertname: 'A' } }));
    assert.equal(one, other);
    assert.match(one, /^[0-9a-f]{16}$/);
  });

  test('without one, different label sets give different fingerprints', () => {
    const base = alertFingerprint(alert({ labels: { alertname: 'A', instance: 'x' } }));
    assert.notEqual(alertFingerprint(alert({ labels: { alertname: 'A', instance: 'y' } })), base);
    assert.notEqual(alertFingerprint(alert({ labels: { alertname: 'A', instancex: '' } })), base);
    assert.notEqual(alertFingerprint(alert({ labels: { alertname: 'A' } })), base);
  });

  test('without one, annotations and times do not change the fingerprint', () => {
    const labels = { alertname: 'A', instance: 'x' };
    const base = alertFingerprint(alert({ labels }));
    assert.equal(alertFingerprint(alert({ labels, annotations: { summary: 'changed' }, startsAt: '2027-01-01T00:00:00Z' })), base);
  });
});
