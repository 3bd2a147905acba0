import { randomBytes } from 'node:crypto';

/** An alert for a webhook body; `fingerprint` defaults to a random one. */
export interface AlertSpec {
  status?: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  fingerprint?: string;
}

/** An Alertmanager v4 webhook body as Alertmanager 0.25+ sends it. */
export function webhookBody(alerts: AlertSpec[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const status = alerts.some((alert) => (alert.status ?? 'firing') === 'firing') ? 'firing' : 'resolved';
  return {
    receiver: 'remediator',
    status,
    alerts: alerts.map((alert) => ({
      status: alert.status ?? 'firing',
      labels: alert.labels,
      annotations: alert.annotations ?? {},
      startsAt: alert.startsAt ?? '2026-11-22T03:00:00.000Z',
      endsAt: alert.endsAt ?? '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.test/graph?g0.expr=up',
      fingerprint: alert.fingerprint ?? randomBytes(8).toString('hex'),
    })),
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.test',
    version: '4',
    groupKey: '{}:{alertname="InstanceDown"}',
    truncatedAlerts: 0,
    ...overrides,
  };
}

/** POSTs a JSON body to the webhook with optional bearer token; returns status and parsed body. */
export async function postWebhook(
  baseUrl: string,
  body: unknown,
  token?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${baseUrl}/webhooks/alertmanager`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the assertion will say so
  }
  return { status: response.status, body: parsed };
}

/** The labels Prometheus' PrimaryUnreachable rule (rules/instances.rules.yml) puts on the alert for a Redis primary. */
export function primaryUnreachableLabels(cluster: string, instance: string): Record<string, string> {
  return {
    alertname: 'PrimaryUnreachable',
    cluster,
    instance,
    job: 'remediator-exporter',
    remediation: 'auto',
    role: 'primary',
    service: 'redis',
    severity: 'critical',
  };
}
