import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tempDir } from '../helpers/temp-dir.js';

/** A small project that lints clean: every kind of expression, variable and metric source appears once. */
export const cleanProject: Readonly<Record<string, string>> = {
  'rules/app.rules.yml': `groups:
  - name: app
    rules:
      - record: cluster:remediator_member_up:max
        expr: max by (cluster) (remediator_member_up)
      - alert: InstanceDown
        expr: remediator_member_up == 0
        for: 15s
        labels:
          severity: critical
          remediation: auto
        annotations:
          summary: '{{ $labels.instance }} is down'
          description: '{{ with printf "count(remediator_member_up{cluster=%q})" $labels.cluster | query }}{{ . | first | value }}{{ end }} members'
          playbook: '{{ if eq $labels.role "primary" }}primary-failover{{ else }}instance-down-notify{{ end }}'
      - alert: ClusterDown
        expr: |
          cluster:remediator_member_up:max == 0
        labels:
          severity: page
          remediation: none
`,
  'remediations/primary-failover.yaml': `name: primary-failover
match: '{alertname="InstanceDown", role="primary"}'
guards:
  - name: replica-up
    query: 'max(remediator_member_up{cluster="{{ labels.cluster }}", role="replica"}) == 1'
steps:
  - name: note
    action: log
    with: { message: 'failing over {{ labels.cluster }}' }
  - name: verify
    action: promql.wait
    with:
      query: 'max(remediator_member_up{cluster="{{ labels.cluster }}", role="primary"}) == 1'
`,
  'remediations/instance-down-notify.yaml': `name: instance-down-notify
match: '{alertname=~"Instance.*"}'
steps:
  - name: note
    action: log
    with: { message: down }
`,
  // Not a playbook (it has no match:): lint must skip it as the loader does.
  'remediations/inventory.yaml': 'clusters: {}\n',
  // Not loaded by remediator, so not linted.
  'remediations/examples/other.yaml': `name: other
match: '{alertname="NoSuchAlert"}'
steps: [{ name: a, action: log, with: { message: x } }]
`,
  'prometheus/prometheus.yml': `scrape_configs:
  - job_name: prometheus
    static_configs: [{ targets: ['localhost:9090'] }]
  - job_name: remediator
    static_configs: [{ targets: ['remediator:9095'] }]
`,
  'grafana/dashboards/overview.json': `${JSON.stringify(
    {
      title: 'Overview',
      templating: {
        list: [
          {
            name: 'cluster',
            type: 'query',
            datasource: { type: 'prometheus', uid: 'p' },
            query: { query: 'label_values(remediator_member_up, cluster)', refId: 'v' },
          },
          { name: 'instance', type: 'query', query: 'label_values(remediator_member_up{cluster=~"$cluster"}, instance)' },
        ],
      },
      panels: [
        {
          title: 'Steps',
          targets: [
            { refId: 'A', expr: 'histogram_quantile(0.9, sum by (le) (rate(remediator_step_duration_seconds_bucket[$__rate_interval])))' },
            { refId: 'B', expr: 'max(remediator_process_resident_memory_bytes{instance=~"[[instance]]"}) + sum(bullmq_job_count) * 0' },
          ],
        },
        {
          type: 'row',
          title: 'Collapsed',
          panels: [
            {
              title: 'Members',
              targets: [
                { refId: 'A', expr: 'sum by (${group}) (remediator_member_up{cluster=~"${cluster:regex}"}) offset $__interval' },
                {
                  refId: 'B',
                  expr: 'max(up{job="remediator"}) + max(prometheus_tsdb_head_series) * 0 + count(cluster:remediator_member_up:max)',
                },
              ],
            },
          ],
        },
        { title: 'Logs', datasource: { type: 'loki', uid: 'l' }, targets: [{ refId: 'A', expr: '{job="remediator"} |= "error"' }] },
      ],
    },
    null,
    2,
  )}\n`,
};

/** Writes `files` (the clean project with these files replaced; `undefined` removes one) into a fresh temp dir. */
export async function writeProject(
  changes: Readonly<Record<string, string | undefined>> = {},
): Promise<{ dir: string; remove: () => Promise<void> }> {
  const { path, remove } = await tempDir('remediator-lint-');
  const files = { ...cleanProject, ...changes };
  for (const [name, text] of Object.entries(files)) {
    if (text === undefined) continue;
    await mkdir(dirname(join(path, name)), { recursive: true });
    await writeFile(join(path, name), text);
  }
  return { dir: path, remove };
}

/** The 1-based line of the first line of `text` that contains `needle`. */
export function lineOf(text: string | undefined, needle: string): number {
  const index = (text ?? '').split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`"${needle}" is not in the fixture`);
  return index + 1;
}
