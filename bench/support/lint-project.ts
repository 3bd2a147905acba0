import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { repoRoot } from '../../tools/harness/repo-root.js';

/** How many files of each kind a generated project has. */
export interface LintProjectSize {
  rules: number;
  playbooks: number;
  dashboards: number;
}

const rulesPerFile = 20;
const services = ['redis', 'postgres', 'stream', 'http'] as const;

/** One rule (alert or recording) as YAML lines, numbered `index`. */
function rule(index: number, playbooks: number): string {
  const service = services[index % services.length] ?? 'redis';
  if (index % 4 === 3) {
    return `      - record: cluster_service:remediator_member_up_${index}:max
        expr: max by (cluster, service) (remediator_member_up{service="${service}"})
`;
  }
  const alertIndex = index - Math.floor(index / 4);
  const acted = alertIndex < playbooks;
  const expressions = [
    `remediator_member_up{service="${service}"} == 0`,
    `remediator_replication_lag_bytes{service="${service}"} > ${1024 * (index + 1)} or remediator_replication_lag_seconds{service="${service}"} > 10`,
    `max by (cluster, service) (remediator_member_up{service="${service}"}) == 0`,
    `avg_over_time(remediator_member_probe_duration_seconds{service="${service}"}[5m]) > 0.5`,
    `sum by (playbook) (increase(remediator_runs_total{outcome="failed"}[15m])) > ${index % 5}`,
  ];
  return `      - alert: Generated${alertIndex}Alert
        expr: ${expressions[index % expressions.length] ?? 'vector(1)'}
        for: ${15 + (index % 4) * 15}s
        labels:
          severity: ${index % 2 === 0 ? 'critical' : 'warning'}
          remediation: ${acted ? 'auto' : 'none'}
        annotations:
          summary: '{{ $labels.instance }} in {{ $labels.cluster }}: generated alert ${alertIndex}'
          description: '{{ with printf "count(remediator_member_up{cluster=%q})" $labels.cluster | query }}{{ . | first | value }}{{ end }} members in the cluster.'
`;
}

/** A playbook acting on Generated<index>Alert, with a guard and a PromQL wait. */
function playbook(index: number): string {
  return `# yaml-language-server: $schema=./playbook.schema.json
name: generated-${index}
description: Generated playbook ${index} for the lint benchmark.
match: '{alertname="Generated${index}Alert", severity=~"critical|warning"}'
on: firing
target: '{{ labels.cluster }}/{{ labels.instance }}'
retry: { attempts: 3, backoff: 5s }
guards:
  - name: a-member-is-up
    query: 'max(remediator_member_up{cluster="{{ labels.cluster }}"}) == 1'
steps:
  - name: note
    action: log
    with: { message: 'generated ${index}: {{ labels.instance }} in {{ labels.cluster }}' }
  - name: verify
    action: promql.wait
    timeout: 60s
    with:
      query: 'min(remediator_member_up{cluster="{{ labels.cluster }}", instance="{{ labels.instance }}"}) == 1'
`;
}

/** A Grafana dashboard with variables and 12 panels of two queries each. */
function dashboard(index: number): string {
  const panels = Array.from({ length: 12 }, (_, panel) => ({
    id: panel + 1,
    type: 'timeseries',
    title: `Panel ${panel + 1}`,
    datasource: { type: 'prometheus', uid: '${datasource}' },
    gridPos: { h: 8, w: 12, x: (panel % 2) * 12, y: Math.floor(panel / 2) * 8 },
    targets: [
      {
        refId: 'A',
        expr: `sum by (cluster) (rate(remediator_runs_total{playbook=~"generated-.*", cluster=~"$cluster"}[$__rate_interval]))`,
      },
      {
        refId: 'B',
        expr: `histogram_quantile(0.9, sum by (le) (rate(remediator_step_duration_seconds_bucket{action=~"$action"}[$__rate_interval]))) + max(remediator_member_up{cluster=~"\${cluster:regex}"}) * 0`,
      },
    ],
  }));
  return `${JSON.stringify(
    {
      uid: `generated-${index}`,
      title: `Generated ${index}`,
      schemaVersion: 42,
      templating: {
        list: [
          { type: 'datasource', name: 'datasource', query: 'prometheus' },
          {
            type: 'query',
            name: 'cluster',
            datasource: { type: 'prometheus', uid: '${datasource}' },
            query: { query: 'label_values(remediator_member_up, cluster)', refId: 'v' },
          },
          { type: 'custom', name: 'action', query: 'log,exec,http' },
        ],
      },
      panels,
    },
    null,
    2,
  )}\n`;
}

/**
 * Writes a project laid out like this repository into `dir`: `size.rules` rules in files of 20 (a quarter of
 * them recording rules), `size.playbooks` playbooks each acting on one alert (the other alerts say
 * `remediation: none`), `size.dashboards` dashboards, and the repository's prometheus.yml. Returns the file count.
 */
export async function writeLintProject(dir: string, size: LintProjectSize): Promise<number> {
  const files = new Map<string, string>();
  for (let file = 0; file * rulesPerFile < size.rules; file += 1) {
    const rules = Array.from({ length: Math.min(rulesPerFile, size.rules - file * rulesPerFile) }, (_, offset) =>
      rule(file * rulesPerFile + offset, size.playbooks),
    ).join('');
    files.set(`rules/generated-${String(file).padStart(3, '0')}.rules.yml`, `groups:\n  - name: generated-${file}\n    rules:\n${rules}`);
  }
  for (let index = 0; index < size.playbooks; index += 1)
    files.set(`remediations/generated-${String(index).padStart(3, '0')}.yaml`, playbook(index));
  for (let index = 0; index < size.dashboards; index += 1)
    files.set(`grafana/dashboards/generated-${String(index).padStart(2, '0')}.json`, dashboard(index));
  files.set('prometheus/prometheus.yml', await readFile(join(repoRoot, 'prometheus', 'prometheus.yml'), 'utf8'));
  for (const [name, text] of files) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return files.size;
}
