import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { matchesLabels, parseLabelMatchers } from '../../src/core/label-matcher.js';
import { exporterMetrics } from '../../src/exporters/metric-catalogue.js';
import { createMetrics } from '../../src/metrics/create-metrics.js';
import { nonPlaybookFiles } from '../../src/playbooks/load-playbooks.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
/** The rule files Prometheus loads (rules/*.yml); rules/slos.yaml is the SLO spec they are generated from, not one of them. */
const ruleFileName = /\.yml$/;

/** Runs promtool in the checkout; never throws, so a failed check shows promtool's own words. */
async function promtool(args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: root });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failed = error as { message: string; stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.message}\n${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/** Relative paths of the YAML files directly in `dir` whose name ends with `suffix`, sorted. */
async function filesIn(dir: string, suffix: RegExp): Promise<string[]> {
  return (await readdir(join(root, dir)))
    .filter((name) => suffix.test(name))
    .sort()
    .map((name) => `${dir}/${name}`);
}

interface AlertingRule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleUnitTests {
  rule_files: string[];
  tests: {
    name?: string;
    alert_rule_test?: {
      alertname: string;
      exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[] | null;
    }[];
  }[];
}

async function readYaml<T>(path: string): Promise<T> {
  return parse(await readFile(join(root, path), 'utf8')) as T;
}

async function alertingRules(file: string): Promise<AlertingRule[]> {
  const { groups } = await readYaml<{ groups: { rules: AlertingRule[] }[] }>(file);
  return groups.flatMap((group) => group.rules).filter((rule) => rule.alert !== undefined);
}

/** Shipped playbooks that act when an alert fires (remediations/*.yaml, not the inventory). */
async function firingPlaybooks(): Promise<{ name: string; matches: (labels: Record<string, string>) => boolean }[]> {
  const files = (await filesIn('remediations', /\.ya?ml$/)).filter((file) => !nonPlaybookFiles.has(file.slice('remediations/'.length)));
  const playbooks = await Promise.all(files.map((file) => readYaml<{ name: string; match: string; on?: string }>(file)));
  return playbooks
    .filter((playbook) => (playbook.on ?? 'firing') === 'firing')
    .map((playbook) => {
      const parsed = parseLabelMatchers(playbook.match);
      assert.ok(parsed.success, `playbook ${playbook.name}: match ${playbook.match}`);
      return { name: playbook.name, matches: (labels: Record<string, string>) => matchesLabels(parsed.matchers, labels) };
    });
}

describe('the shipped Prometheus and Alertmanager configuration', () => {
  test('promtool check rules accepts every rule file in rules/', async () => {
    const ruleFiles = await filesIn('rules', ruleFileName);
    assert.ok(ruleFiles.includes('rules/instances.rules.yml') && ruleFiles.includes('rules/remediator.rules.yml'), ruleFiles.join(', '));
    const { ok, output } = await promtool(['check', 'rules', ...ruleFiles]);
    assert.ok(ok, `promtool check rules ${ruleFiles.join(' ')} failed:\n${output}`);
    assert.equal(output.match(/SUCCESS: \d+ rules found/g)?.length, ruleFiles.length, output);
  });

  test('promtool test rules passes every unit test in test/rules/', async () => {
    const testFiles = await filesIn('test/rules', /\.test\.ya?ml$/);
    assert.ok(testFiles.length > 0, 'no test/rules/*.test.yml');
    const { ok, output } = await promtool(['test', 'rules', ...testFiles]);
    assert.ok(ok, `promtool test rules ${testFiles.join(' ')} failed:\n${output}`);
    assert.doesNotMatch(output, /FAILED/, output);
    assert.equal(output.match(/^\s*SUCCESS\s*$/gm)?.length, testFiles.length, output);
  });

  test('every alert in rules/ has severity, remediation, summary and description, and uses only known metrics', async () => {
    const registry = new Registry();
    createMetrics({ registry });
    const own = (await registry.getMetricsAsJSON()).flatMap((metric) =>
      metric.type.toString() === 'histogram' ? ['_bucket', '_sum', '_count'].map((suffix) => metric.name + suffix) : [metric.name],
    );
    const known = new Set<string>([...Object.keys(exporterMetrics), ...own]);
    for (const file of await filesIn('rules', ruleFileName)) {
      for (const rule of await alertingRules(file)) {
        const where = `${file}: ${rule.alert ?? ''}`;
        assert.ok(rule.labels?.severity, `${where}: no severity label`);
        assert.ok(rule.labels.remediation, `${where}: no remediation label`);
        assert.ok(rule.annotations?.summary, `${where}: no summary`);
        assert.ok(rule.annotations.description, `${where}: no description`);
        // Metric names in the expression and in the annotations' query templates.
        const used = [rule.expr, ...Object.values(rule.annotations)].join(' ').match(/\bremediator_[a-zA-Z0-9_]+/g) ?? [];
        for (const metric of used)
          assert.ok(known.has(metric), `${where}: ${metric} is neither in the exporter catalogue nor one of remediator's metrics`);
      }
    }
  });

  test('every runbook annotation names a heading of docs/operations.md', async () => {
    // GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens.
    const anchors = new Set(
      [...(await readFile(join(root, 'docs/operations.md'), 'utf8')).matchAll(/^#+ (.+)$/gm)].map((heading) =>
        (heading[1] ?? '')
          .toLowerCase()
          .replace(/[^a-z0-9 _-]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    let checked = 0;
    for (const file of await filesIn('rules', ruleFileName)) {
      for (const rule of await alertingRules(file)) {
        const runbook = rule.annotations?.runbook;
        if (runbook === undefined) continue;
        const anchor = /^docs\/operations\.md#(.+)$/.exec(runbook)?.[1];
        assert.ok(
          anchor !== undefined && anchors.has(anchor),
          `${file}: ${rule.alert ?? ''}: runbook ${runbook} is no heading of docs/operations.md`,
        );
        checked += 1;
      }
    }
    assert.ok(checked > 0, 'no alert has a runbook annotation');
  });

  test('every rule file has unit tests that fire each of its alerts', async () => {
    const tested = new Set<string>();
    for (const file of await filesIn('test/rules', /\.test\.ya?ml$/)) {
      for (const unit of (await readYaml<RuleUnitTests>(file)).tests) {
        for (const check of unit.alert_rule_test ?? []) if ((check.exp_alerts ?? []).length > 0) tested.add(check.alertname);
      }
    }
    for (const file of await filesIn('rules', ruleFileName)) {
      for (const rule of await alertingRules(file))
        assert.ok(tested.has(rule.alert ?? ''), `${file}: no unit test in test/rules/ fires ${rule.alert ?? ''}`);
    }
  });

  test('the alerts the unit tests expect reach the playbooks their labels and annotations promise', async () => {
    const playbooks = await firingPlaybooks();
    let checked = 0;
    for (const file of await filesIn('test/rules', /\.test\.ya?ml$/)) {
      for (const unit of (await readYaml<RuleUnitTests>(file)).tests) {
        for (const check of unit.alert_rule_test ?? []) {
          for (const alert of check.exp_alerts ?? []) {
            const labels: Record<string, string> = { ...alert.exp_labels, alertname: check.alertname };
            const where = `${file}: ${unit.name ?? ''}: ${JSON.stringify(labels)}`;
            const matched = playbooks.filter((playbook) => playbook.matches(labels)).map((playbook) => playbook.name);
            if (labels.remediation === 'none') assert.deepEqual(matched, [], `${where}: remediation=none, yet playbooks act on it`);
            if (labels.remediation === 'auto') assert.ok(matched.length > 0, `${where}: remediation=auto, yet no playbook acts on it`);
            const named = alert.exp_annotations?.playbook;
            // An empty annotation names no playbook (PrimaryUnreachable of a service whose failover is not shipped).
            if (named !== undefined && named !== '')
              assert.ok(matched.includes(named), `${where}: annotated playbook ${named}, matched by ${matched.join(', ') || 'none'}`);
            checked += 1;
          }
        }
      }
    }
    assert.ok(checked > 0, 'no expected alerts in test/rules/');
  });

  test('promtool accepts prometheus/prometheus.yml and the compose one, deploy/compose/prometheus.yml', async () => {
    const files = ['prometheus/prometheus.yml', 'deploy/compose/prometheus.yml'];
    const { ok, output } = await promtool(['check', 'config', '--syntax-only', ...files]);
    assert.ok(ok, `promtool check config --syntax-only ${files.join(' ')} failed:\n${output}`);
    assert.equal(output.match(/SUCCESS/g)?.length, files.length, output);
  });

  test('amtool accepts prometheus/alertmanager.yml and it routes to the remediator webhook with send_resolved', async () => {
    const { stdout } = await run('amtool', ['check-config', 'prometheus/alertmanager.yml'], { cwd: root });
    assert.match(stdout, /SUCCESS/);
    assert.match(stdout, /1 receivers/);
    const config = parse(await readFile(join(root, 'prometheus/alertmanager.yml'), 'utf8')) as {
      receivers: {
        webhook_configs: {
          url: string;
          send_resolved: boolean;
          http_config: { authorization: { credentials_file?: string; credentials?: string } };
        }[];
      }[];
    };
    const webhook = config.receivers[0]?.webhook_configs[0];
    assert.ok(webhook, 'a webhook receiver');
    assert.match(webhook.url, /\/webhooks\/alertmanager$/);
    assert.equal(webhook.send_resolved, true);
    assert.ok(webhook.http_config.authorization.credentials_file, 'the token comes from a file');
    assert.equal(webhook.http_config.authorization.credentials, undefined, 'no inline token');
  });

  test('Alertmanager sends PrimaryUnreachable without a group wait and keeps the 5 s wait for every other alert', async () => {
    // amtool's own routing: which route of the tree each alert ends in (both routes post to the one webhook).
    const routeOf = async (labels: string[]) => {
      const { stdout } = await run(
        'amtool',
        ['config', 'routes', 'test', '--config.file=prometheus/alertmanager.yml', '--tree', ...labels],
        {
          cwd: root,
        },
      );
      return stdout;
    };
    const failover = await routeOf([
      'alertname=PrimaryUnreachable',
      'cluster=cache',
      'service=redis',
      'severity=critical',
      'remediation=auto',
    ]);
    assert.match(failover, /\{alertname="PrimaryUnreachable"\}\s+receiver: remediator/, failover);
    for (const alertname of ['InstanceDown', 'NoHealthyInstances', 'ReplicationLag']) {
      const other = await routeOf([`alertname=${alertname}`, 'cluster=cache', 'service=redis', 'severity=critical', 'remediation=auto']);
      assert.doesNotMatch(other, /PrimaryUnreachable/, `${alertname} takes the failover route:\n${other}`);
      assert.match(other, /default-route\s+receiver: remediator/, other);
    }
    const config = parse(await readFile(join(root, 'prometheus/alertmanager.yml'), 'utf8')) as {
      route: { group_wait: string; routes: { matchers: string[]; group_wait?: string; group_interval?: string }[] };
    };
    assert.equal(config.route.group_wait, '5s');
    const fast = config.route.routes.find((route) => route.matchers.includes('alertname="PrimaryUnreachable"'));
    assert.ok(fast, 'a route for PrimaryUnreachable');
    assert.equal(fast.group_wait, '0s');
    assert.equal(fast.group_interval, '1s');
  });
});
