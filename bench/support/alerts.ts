/**
 * Alertmanager-shaped webhook bodies for the benchmarks: realistic labels and annotations, 16-hex fingerprints,
 * deterministic from a seed so two targets under test receive the same sequence.
 */

/** A deterministic PRNG (mulberry32): the same seed gives the same bodies. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The kinds of alert in a feed: what the shipped rules fire, and how often (weights). */
const kinds = [
  { alertname: 'InstanceDown', status: 'firing', weight: 60 },
  { alertname: 'ReplicationLag', status: 'firing', weight: 15 },
  { alertname: 'NoHealthyInstances', status: 'firing', weight: 5 },
  { alertname: 'InstanceDown', status: 'resolved', weight: 20 },
] as const;

type Kind = (typeof kinds)[number];

const services = ['redis', 'postgres', 'stream', 'http'] as const;
const baseStartsAtMs = Date.parse('2026-11-22T03:00:00.000Z');

/** One alert as Alertmanager's webhook carries it. */
export interface WebhookAlertJson {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** The alert numbered `id` (its labels, fingerprint and episode are a function of the id). */
export function benchAlert(
  id: number,
  kind: { alertname: string; status: 'firing' | 'resolved' } = { alertname: 'InstanceDown', status: 'firing' },
): WebhookAlertJson {
  const service = services[id % services.length] ?? 'redis';
  const cluster = `${service}-${String(Math.floor(id / 7) % 500).padStart(3, '0')}`;
  const instance = `${cluster}-${id}.prod.internal:${service === 'redis' ? 6379 : service === 'postgres' ? 5432 : service === 'stream' ? 1935 : 8080}`;
  const role = id % 3 === 0 ? 'primary' : 'replica';
  const startsAt = new Date(baseStartsAtMs + id * 1000).toISOString();
  return {
    status: kind.status,
    labels: {
      alertname: kind.alertname,
      cluster,
      instance,
      job: `${service}-exporter`,
      role,
      service,
      severity: kind.alertname === 'ReplicationLag' ? 'warning' : 'critical',
      team: 'platform',
      env: 'prod',
      region: id % 2 === 0 ? 'eu-west-1' : 'eu-central-1',
    },
    annotations: {
      summary: `${instance} ${kind.alertname === 'InstanceDown' ? 'is down' : kind.alertname === 'ReplicationLag' ? 'lags behind its primary' : 'has no healthy peer'}`,
      description: `${kind.alertname} on ${instance} (${role}) in ${cluster}: remediator_member_up has been 0 for more than 15s.`,
      runbook_url: `https://runbooks.example.com/${kind.alertname.toLowerCase()}`,
    },
    startsAt,
    endsAt: kind.status === 'resolved' ? new Date(baseStartsAtMs + id * 1000 + 120_000).toISOString() : '0001-01-01T00:00:00Z',
    generatorURL: `http://prometheus.example.com:9090/graph?g0.expr=remediator_member_up%7Bcluster%3D%22${cluster}%22%7D+%3D%3D+0&g0.tab=1`,
    fingerprint: (0x5f2a9c1b00000000n + BigInt(id)).toString(16).padStart(16, '0'),
  };
}

/** A webhook body (v4) grouping `alerts` by alertname, as a default Alertmanager route does. */
export function webhookBody(alerts: readonly WebhookAlertJson[]): Record<string, unknown> {
  const alertname = alerts[0]?.labels.alertname ?? 'InstanceDown';
  return {
    receiver: 'remediator',
    status: alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: { alertname },
    commonLabels: { alertname, env: 'prod', team: 'platform' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com:9093',
    version: '4',
    groupKey: `{}/{severity=~"critical|warning"}:{alertname="${alertname}"}`,
    truncatedAlerts: 0,
  };
}

/** An endless sequence of webhook bodies with a mix of new alerts and redeliveries. */
export interface WebhookFeed {
  /** The next body, as JSON text. */
  next(): string;
  readonly stats: { bodies: number; redeliveredBodies: number; alerts: number; newAlerts: number };
}

/**
 * A feed: each body has 5–20 alerts of one kind; `newShare` of its alerts are new, the rest repeat notifications
 * of alerts already sent; `redeliveryShare` of the bodies are verbatim redeliveries of a recent body (an
 * Alertmanager retry or the second member of an HA pair).
 */
export function createWebhookFeed(options: { seed: number; newShare?: number; redeliveryShare?: number; firstId?: number }): WebhookFeed {
  const random = seededRandom(options.seed);
  const newShare = options.newShare ?? 0.7;
  const redeliveryShare = options.redeliveryShare ?? 0.3;
  const totalWeight = kinds.reduce((sum, kind) => sum + kind.weight, 0);
  const seen = new Map<Kind, number[]>(kinds.map((kind) => [kind, []]));
  const recent: string[] = [];
  let nextId = options.firstId ?? 0;
  const stats = { bodies: 0, redeliveredBodies: 0, alerts: 0, newAlerts: 0 };
  const pickKind = (): Kind => {
    let roll = random() * totalWeight;
    for (const kind of kinds) {
      roll -= kind.weight;
      if (roll < 0) return kind;
    }
    return kinds[0];
  };
  return {
    stats,
    next() {
      stats.bodies += 1;
      if (recent.length > 0 && random() < redeliveryShare) {
        stats.redeliveredBodies += 1;
        const body = recent[Math.floor(random() * recent.length)] ?? '';
        stats.alerts += (body.match(/"fingerprint"/g) ?? []).length;
        return body;
      }
      const kind = pickKind();
      const ids = seen.get(kind) ?? [];
      const count = 5 + Math.floor(random() * 16);
      const chosen = new Set<number>();
      for (let index = 0; index < count; index += 1) {
        if (ids.length === 0 || random() < newShare) {
          const id = nextId;
          nextId += 1;
          ids.push(id);
          chosen.add(id);
          stats.newAlerts += 1;
        } else {
          chosen.add(ids[Math.floor(random() * ids.length)] ?? 0);
        }
      }
      stats.alerts += chosen.size;
      const body = JSON.stringify(webhookBody([...chosen].map((id) => benchAlert(id, kind))));
      recent.push(body);
      if (recent.length > 64) recent.shift();
      return body;
    },
  };
}
