import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import { parseInventorySource } from '../../src/inventory/load-inventory.js';
import { parsePlaybookSources } from '../../src/playbooks/load-playbooks.js';
import { formatProblem } from '../../src/sources/index.js';
import { lintDirectory } from '../../tools/lint/index.js';
import { cleanProject, lineOf, writeProject } from './lint-fixture.js';

/** Lints the clean fixture with `changes` applied; returns the report's lines (paths relative to the project). */
async function lint(changes: Readonly<Record<string, string | undefined>> = {}): Promise<{ ok: boolean; lines: readonly string[] }> {
  const project = await writeProject(changes);
  try {
    const { ok, lines } = await lintDirectory(project.dir, project.dir);
    return { ok, lines };
  } finally {
    await project.remove();
  }
}

const rules = cleanProject['rules/app.rules.yml'] ?? '';
const failover = cleanProject['remediations/primary-failover.yaml'] ?? '';
const dashboard = cleanProject['grafana/dashboards/overview.json'] ?? '';

/** What `remediator validate` reports for one playbook file beside the fixture's inventory, formatted as it prints it. */
function validateLines(file: string, text: string): string[] {
  const inventory = parseInventorySource('remediations/inventory.yaml', cleanProject['remediations/inventory.yaml'] ?? '', () => '');
  assert.ok(inventory.success);
  const actions = createDefaultActions({
    smtpUrl: undefined,
    smtpFrom: 'x@y',
    prometheusUrl: undefined,
    path: undefined,
    inventory: inventory.inventory,
  });
  const result = parsePlaybookSources([{ file, text }], actions);
  return result.success ? [] : result.problems.map(formatProblem);
}

/** The rules file with one more rule appended to the group. */
const withRule = (rule: string) => ({ 'rules/app.rules.yml': `${rules}${rule}` });

describe('remediator lint', () => {
  test('a clean project: one summary line, recording rules, remediator, BullMQ, Prometheus and Grafana variables all understood', async () => {
    const { ok, lines } = await lint();
    assert.deepEqual(lines, ['lint: 3 rules, 2 playbooks, 1 dashboard, 14 expressions OK']);
    assert.equal(ok, true);
  });

  test('a syntax error in a guard is reported at the guard query line, as validate reports it', async () => {
    const broken = failover.replace('role="replica"}) == 1', 'role="replica"}) == ');
    const { ok, lines } = await lint({ 'remediations/primary-failover.yaml': broken });
    assert.equal(ok, false);
    // Nothing else: while a playbook does not load, the alerts it would cover and the name it defines are unknown.
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(
      lines[0] ?? '',
      new RegExp(
        `^remediations/primary-failover\\.yaml:${lineOf(broken, 'query: ')}: guards\\[0\\]\\.query: PromQL (syntax error|unexpected end)`,
      ),
    );
    assert.deepEqual(lines, validateLines('remediations/primary-failover.yaml', broken));
  });

  test('a syntax error in a promql.wait query and in match: are reported at their lines', async () => {
    const broken = failover
      .replace('role="primary"}) == 1', 'role="primary"} == 1')
      .replace(`match: '{alertname="InstanceDown", role="primary"}'`, `match: '{alertname="InstanceDown", role=}'`);
    const { lines } = await lint({ 'remediations/primary-failover.yaml': broken });
    const waitLine = lineOf(broken, 'query: \'max(remediator_member_up{cluster="{{ labels.cluster }}", role="primary"}');
    assert.ok(
      lines.some((line) => line.startsWith(`remediations/primary-failover.yaml:${waitLine}: steps[1].with.query: PromQL`)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((line) => line.startsWith(`remediations/primary-failover.yaml:${lineOf(broken, 'match:')}: match: `)),
      lines.join('\n'),
    );
  });

  test('every playbook problem validate finds is reported by lint, in the same words', async () => {
    const broken = `name: broken
match: '{alertname="InstanceDown"}'
taget: x
steps:
  - name: note
    action: log
    with: { message: '{{ lables.instance }}' }
  - name: go
    action: redis.failovr
  - name: fail-over
    action: redis.failover
    with: { cluster: db }
`;
    const { lines } = await lint({ 'remediations/broken.yaml': broken });
    const expected = validateLines('remediations/broken.yaml', broken);
    assert.equal(expected.length, 4, expected.join('\n'));
    assert.deepEqual(lines, expected);
  });

  test("remediations/drills.yaml is checked against the project's inventory, as validate checks it", async () => {
    const inventory = 'clusters:\n  cache:\n    kind: redis\n    members: [{ name: a, address: 127.0.0.1:6379 }]\n';
    const drills = (cluster: string) =>
      `drills:\n  - { name: cache-weekly, cluster: ${cluster}, schedule: '0 3 * * 2', kind: switchover, window: 1h }\n`;
    const known = await lint({ 'remediations/inventory.yaml': inventory, 'remediations/drills.yaml': drills('cache') });
    assert.deepEqual(known.lines, ['lint: 3 rules, 2 playbooks, 1 dashboard, 14 expressions OK'], 'the drills file is not a playbook');
    const unknown = await lint({ 'remediations/inventory.yaml': inventory, 'remediations/drills.yaml': drills('db') });
    assert.deepEqual(unknown.lines, ['remediations/drills.yaml:2: drills[0].cluster: cluster "db" is not in the inventory (known: cache)']);
  });

  test("literal clusters are checked against the project's inventory, as validate checks them", async () => {
    const failover = (cluster: string) => `name: cache-failover
match: '{alertname="InstanceDown"}'
steps:
  - name: fail-over
    action: redis.failover
    with: { cluster: ${cluster} }
`;
    const inventory =
      'clusters:\n  cache:\n    kind: redis\n    credentials: { passwordFile: /nonexistent/secret }\n    members: [{ name: a, address: 127.0.0.1:6379 }]\n';
    const known = await lint({ 'remediations/cache-failover.yaml': failover('cache'), 'remediations/inventory.yaml': inventory });
    assert.deepEqual(known.lines, ['lint: 3 rules, 3 playbooks, 1 dashboard, 15 expressions OK']);
    const unknown = await lint({ 'remediations/cache-failover.yaml': failover('db'), 'remediations/inventory.yaml': inventory });
    assert.deepEqual(unknown.lines, [
      'remediations/cache-failover.yaml:6: steps[0].with.cluster: no cluster "db" in the inventory (remediations/inventory.yaml)',
    ]);
    const broken = await lint({
      'remediations/cache-failover.yaml': failover('cache'),
      'remediations/inventory.yaml': `${inventory}    prio: 1\n`,
    });
    assert.deepEqual(broken.lines, [
      'remediations/cache-failover.yaml:6: steps[0].with.cluster: no cluster "cache" in the inventory (no inventory file loaded)',
      'remediations/inventory.yaml:6: clusters.cache.prio: unknown key "prio"',
    ]);
  });

  test('a promql.wait query in resolved: steps and approval notify: steps is checked at its line', async () => {
    const text = `${failover}resolved:
  steps:
    - name: recovered
      action: promql.wait
      with: { query: 'remediator_member_upp == 1' }
approval:
  notify:
    - name: asked
      action: promql.wait
      with:
        query: |
          max(
            remediator_member_uup) == 1
`;
    const { lines } = await lint({ 'remediations/primary-failover.yaml': text });
    assert.deepEqual(
      lines.map((line) => line.replace(/: not from .*$/, '')),
      [
        `remediations/primary-failover.yaml:${lineOf(text, 'remediator_member_upp')}: step recovered (promql.wait): unknown metric "remediator_member_upp"`,
        `remediations/primary-failover.yaml:${lineOf(text, 'remediator_member_uup')}: step asked (promql.wait): unknown metric "remediator_member_uup"`,
      ],
    );
  });

  test('a playbook matching an alert that does not exist, by name or by regex', async () => {
    const { lines } = await lint({
      'remediations/typo.yaml': `name: typo\nmatch: '{alertname="InstanceDwn"}'\nsteps: [{ name: a, action: log, with: { message: x } }]\n`,
      'remediations/regex.yaml': `name: regex\nmatch: '{alertname=~"Disk.*"}'\nsteps: [{ name: a, action: log, with: { message: x } }]\n`,
    });
    assert.deepEqual(lines, [
      'remediations/regex.yaml:2: playbook regex: match: no alerting rule in rules/ is named to match alertname=~"Disk.*" (alerts: ClusterDown, InstanceDown)',
      'remediations/typo.yaml:2: playbook typo: match: no alerting rule in rules/ is named "InstanceDwn" (did you mean "InstanceDown"?)',
    ]);
  });

  test('a playbook whose labels rule out every alert of that name, and one with no alertname matcher', async () => {
    const { lines } = await lint({
      'remediations/auto.yaml': `name: auto\nmatch: '{alertname="ClusterDown", severity="critical"}'\nsteps: [{ name: a, action: log, with: { message: x } }]\n`,
      'remediations/any.yaml': `name: any\nmatch: '{severity="critical"}'\nsteps: [{ name: a, action: log, with: { message: x } }]\n`,
    });
    assert.deepEqual(lines, [
      'remediations/any.yaml:2: playbook any: match: has no alertname matcher, so it would act on any alert that carries its other labels, including alerts added later; name its alerts (alertname="…" or alertname=~"A|B"; alertname=~".+" if every alert is meant)',
      'remediations/auto.yaml:2: playbook auto: match: matches no alert in rules/ (ClusterDown has severity="page", not severity="critical")',
    ]);
  });

  test('an alert with neither a playbook nor remediation: none', async () => {
    const changes = withRule(`      - alert: DiskFull
        expr: remediator_replication_lag_bytes > 1e9
        labels: { severity: warning }
`);
    const { lines } = await lint(changes);
    assert.deepEqual(lines, [
      `rules/app.rules.yml:${lineOf(changes['rules/app.rules.yml'], 'alert: DiskFull')}: alert DiskFull: no playbook in remediations/ matches {alertname="DiskFull", severity="warning"}; add one, or label the alert remediation: none if nothing should act on it`,
    ]);
  });

  test('remediation: none excuses an alert; a playbook that matches it anyway, a bad remediation value and a wrong playbook annotation are reported', async () => {
    const changes = withRule(`      - alert: Quiet
        expr: up == 0
        annotations: { remediation: none }
      - alert: Odd
        expr: up == 0
        labels: { remediation: manual }
        annotations: { playbook: no-such-playbook }
`);
    const text = changes['rules/app.rules.yml'];
    const { lines } = await lint({
      ...changes,
      'remediations/cluster-down.yaml': `name: cluster-down\nmatch: '{alertname=~"ClusterDown|Odd"}'\nsteps: [{ name: a, action: log, with: { message: x } }]\n`,
    });
    assert.deepEqual(lines, [
      `rules/app.rules.yml:${lineOf(text, 'alert: ClusterDown')}: alert ClusterDown: says remediation: none, yet playbook cluster-down matches it`,
      `rules/app.rules.yml:${lineOf(text, 'alert: Odd')}: alert Odd: remediation is "manual"; use auto (a playbook acts) or none (no playbook should)`,
      `rules/app.rules.yml:${lineOf(text, 'alert: Odd')}: alert Odd: the playbook annotation names "no-such-playbook", but there is no such playbook in remediations/`,
    ]);
  });

  test('a rule using an unknown metric, with a suggestion; a recording rule output is known only while the rule exists', async () => {
    const typo = withRule(`      - alert: Lagging
        expr: remediator_replication_lag_byte > 1048576
        labels: { remediation: none }
`);
    const { lines } = await lint(typo);
    assert.deepEqual(lines, [
      `rules/app.rules.yml:${lineOf(typo['rules/app.rules.yml'], 'remediator_replication_lag_byte >')}: alert Lagging: unknown metric "remediator_replication_lag_byte": not from the exporter, remediator, a recording rule, Prometheus itself, nor lint.yaml's externalMetrics; did you mean "remediator_replication_lag_bytes"?`,
    ]);
    const withoutRecord = rules.replace(
      '- record: cluster:remediator_member_up:max\n        expr: max by (cluster) (remediator_member_up)\n      ',
      '',
    );
    const missing = await lint({ 'rules/app.rules.yml': withoutRecord });
    assert.ok(
      missing.lines.some((line) =>
        line.startsWith(
          `rules/app.rules.yml:${lineOf(withoutRecord, 'cluster:remediator_member_up:max == 0')}: alert ClusterDown: unknown metric "cluster:remediator_member_up:max"`,
        ),
      ),
      missing.lines.join('\n'),
    );
    assert.ok(
      missing.lines.some(
        (line) =>
          line.startsWith('grafana/dashboards/overview.json:') && line.includes('unknown metric "cluster:remediator_member_up:max"'),
      ),
      missing.lines.join('\n'),
    );
  });

  test('a dashboard using an unknown metric is reported at the line of its expr in the JSON file', async () => {
    const broken = dashboard.replace('remediator_process_resident_memory_bytes', 'process_resident_memory_bytes');
    const { lines } = await lint({ 'grafana/dashboards/overview.json': broken });
    assert.deepEqual(lines, [
      `grafana/dashboards/overview.json:${lineOf(broken, 'process_resident_memory_bytes')}: panel "Steps" target B: unknown metric "process_resident_memory_bytes": not from the exporter, remediator, a recording rule, Prometheus itself, nor lint.yaml's externalMetrics`,
    ]);
  });

  test('Grafana variables are substituted before parsing: rate(x[$__rate_interval]) parses, a real syntax error still shows', async () => {
    const parsed = dashboard.replace('[$__rate_interval]', '[${__rate_interval}]');
    assert.equal((await lint({ 'grafana/dashboards/overview.json': parsed })).ok, true);
    const broken = dashboard.replace('[$__rate_interval])))', '[$__rate_interval]))');
    const { lines } = await lint({ 'grafana/dashboards/overview.json': broken });
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(
      lines[0] ?? '',
      new RegExp(`^grafana/dashboards/overview\\.json:${lineOf(broken, '$__rate_interval')}: panel "Steps" target A: PromQL`),
    );
  });

  test('the all-down pitfall count(… == 1) < 1 is reported at its line inside a block literal, with the explanation', async () => {
    const changes = withRule(`      - alert: NoHealthyInstances
        expr: |
          # every member of a cluster is down
          count by (cluster) (remediator_member_up == 1)
            < 1
        labels: { remediation: none }
`);
    const { lines } = await lint(changes);
    assert.deepEqual(lines, [
      `rules/app.rules.yml:${lineOf(changes['rules/app.rules.yml'], 'count by (cluster)')}: alert NoHealthyInstances: all-down pitfall: "count by (cluster) (remediator_member_up == 1) < 1" can never be true when every series fails "remediator_member_up == 1": count() of an empty vector is empty, not 0, so there is nothing to compare; e.g. sum by (cluster) (remediator_member_up == bool 1) < 1, or max by (…) (metric) == 0`,
    ]);
  });

  test('lint.yaml declares external metrics by name or prefix, with a reason; a malformed entry is reported at its line', async () => {
    const changes = withRule(`      - alert: HostLoad
        expr: node_load1 > 10 and haproxy_backend_up == 0
        labels: { remediation: none }
`);
    assert.equal((await lint(changes)).lines.length, 2);
    const declared = await lint({
      ...changes,
      'lint.yaml':
        'externalMetrics:\n  - { name: node_load1, reason: node_exporter on every host }\n  - { prefix: haproxy_, reason: HAProxy exporter }\n',
    });
    assert.deepEqual(declared.lines, ['lint: 4 rules, 2 playbooks, 1 dashboard, 15 expressions OK']);
    const bad = await lint({ 'lint.yaml': 'externalMetrics:\n  - { name: node_load1 }\n  - { prefix: x_, reason: y, nmae: z }\n' });
    assert.deepEqual(bad.lines, [
      'lint.yaml:2: externalMetrics[0].reason: Invalid input: expected string, received undefined',
      'lint.yaml:3: externalMetrics[1].nmae: unknown key "nmae"',
    ]);
  });

  test('prometheus_* is known only while prometheus.yml scrapes Prometheus itself', async () => {
    const { lines } = await lint({
      'prometheus/prometheus.yml': "scrape_configs:\n  - job_name: remediator\n    static_configs: [{ targets: ['remediator:9095'] }]\n",
    });
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0] ?? '', /panel "Members" target B: unknown metric "prometheus_tsdb_head_series"/);
  });

  test('a project without rules or playbooks says so', async () => {
    const { lines } = await lint({
      'rules/app.rules.yml': undefined,
      'remediations/primary-failover.yaml': undefined,
      'remediations/instance-down-notify.yaml': undefined,
      'grafana/dashboards/overview.json': undefined,
    });
    assert.deepEqual(lines, [
      'remediations/: no playbooks (*.yaml): no alert would be acted on',
      'rules/: no rule files (*.yml): nothing for playbooks to match',
    ]);
  });

  test('YAML and JSON that do not parse are reported with their line', async () => {
    const { lines } = await lint({
      'rules/app.rules.yml': `${rules}      - alert: [\n`,
      'grafana/dashboards/overview.json': '{\n  "panels": [,]\n}\n',
    });
    // Nothing else: with a rule file unread, every playbook would seem to match no alert.
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.equal(lines[0], "grafana/dashboards/overview.json:2: JSON: Unexpected token ','");
    assert.match(lines[1] ?? '', /^rules\/app\.rules\.yml:\d+: YAML: Flow sequence in block collection must be sufficiently indented/);
  });
});
