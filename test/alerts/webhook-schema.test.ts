import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertFingerprint, webhookAlertSchema, webhookSchema, type WebhookAlert } from '../../src/alerts/webhook-schema.js';

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
    const text = '{ "receiver": "r", "status": "firing", "alerts": [ { "status": "firing", "startsAt": "2026-11-22T03:00:00Z", "labels": { "__proto__": { "polluted": "yes" } }, "annotations": { "__proto__": { "polluted": "yes" } } } ] }';
    const result = parseBody(text);
    assert.ok(!result.success);
    assert.deepEqual(
      result.error.issues.map((issue) => issue.path.join('.')).sort(),
      ['alerts.0.annotations.__proto__', 'alerts.0.labels.__proto__'],
    );
    assert.equal((({}) as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
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
