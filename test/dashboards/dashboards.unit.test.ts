import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { VariableType, defaultDashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { createMetrics } from '../../src/metrics/create-metrics.js';
import { datasourceRef, provisionedDatasourceUid, type GrafanaDashboard } from '../../tools/dashboards/dashboard-kit.js';
import {
  allDashboards,
  checkDashboards,
  defaultDashboardsDir,
  renderDashboards,
  upToDate,
} from '../../tools/dashboards/generate-dashboards.js';
import { panelsOf, panelTargets, substituteVariables, variablesIn, vectorSelectors } from '../../tools/dashboards/panel-targets.js';
import { declaredMetrics } from './known-metrics.js';
import { grafanaBuiltins, variableValues } from './lab-variables.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dashboards = allDashboards();
const expected = {
  'remediator-slo': 'remediator / SLO overview',
  'remediator-rto': 'remediator / Recovery and RTO',
  'remediator-queue': 'remediator / Remediation queue',
  'remediator-fleet': 'remediator / Fleet',
};
/** The schema version the SDK writes (Grafana migrates older ones on load; 39 is Grafana 11.0). */
const sdkSchemaVersion = defaultDashboard().schemaVersion;

/** Everything in a dashboard that is a Grafana query: panel targets and the query variables' label_values(). */
function queryTexts(dashboard: GrafanaDashboard): { where: string; text: string }[] {
  const variables = (dashboard.templating.list ?? []).filter((variable) => variable.type === VariableType.Query);
  return [
    ...panelTargets(dashboard).map((target) => ({ where: `${target.panel} ${target.refId}`, text: target.expr })),
    ...variables.map((variable) => ({ where: `variable ${variable.name}`, text: variable.definition ?? '' })),
  ];
}

describe('dashboards (grafana/dashboards, generated from src/dashboards)', () => {
  test('the committed JSON files are what `remediator dashboards generate` writes', async () => {
    const drift = await checkDashboards(join(root, defaultDashboardsDir));
    assert.ok(
      upToDate(drift),
      `grafana/dashboards is out of date (${JSON.stringify(drift)}): run \`npx tsx src/main.ts dashboards generate\``,
    );
    // Generating twice gives the same bytes: nothing depends on time, order of iteration or the environment.
    assert.deepEqual(renderDashboards(allDashboards()), renderDashboards(dashboards));
  });

  test("each dashboard has its fixed uid, title, the remediator tag and the SDK's schema version", () => {
    assert.deepEqual(Object.fromEntries(dashboards.map((dashboard) => [dashboard.uid, dashboard.title])), expected);
    assert.ok(sdkSchemaVersion >= 39, `schemaVersion ${sdkSchemaVersion}`);
    for (const dashboard of dashboards) {
      assert.equal(dashboard.schemaVersion, sdkSchemaVersion, `${dashboard.uid}: schemaVersion`);
      assert.deepEqual(dashboard.tags, ['remediator'], `${dashboard.uid}: tags`);
      assert.ok(panelsOf(dashboard).length > 0, `${dashboard.uid}: no panels`);
      const ids = (dashboard.panels ?? []).flatMap((panel) => [
        panel.id,
        ...(panel.type === 'row' ? panelsOf({ ...dashboard, panels: [panel] }).map((inner) => inner.id) : []),
      ]);
      assert.equal(new Set(ids).size, ids.length, `${dashboard.uid}: panel ids are unique`);
    }
  });

  test('each dashboard has the `datasource` variable (Prometheus, the provisioned uid first), and every panel and query uses it', () => {
    for (const dashboard of dashboards) {
      const variables = dashboard.templating.list ?? [];
      const datasource = variables.find((variable) => variable.name === 'datasource');
      assert.equal(datasource?.type, VariableType.Datasource, `${dashboard.uid}: no datasource variable`);
      assert.equal(datasource.query, 'prometheus');
      assert.equal(datasource.current?.value, provisionedDatasourceUid);
      assert.equal(variables.indexOf(datasource), 0, `${dashboard.uid}: the datasource variable comes first`);
      for (const variable of variables.filter((candidate) => candidate.type === VariableType.Query)) {
        assert.deepEqual(variable.datasource, datasourceRef, `${dashboard.uid}: variable ${variable.name}`);
        assert.match(variable.definition ?? '', /^label_values\(.+, \w+\)$/, `${dashboard.uid}: variable ${variable.name}`);
      }
      for (const panel of panelsOf(dashboard)) {
        if (panel.type === 'text') continue;
        const where = `${dashboard.uid}: panel "${panel.title ?? '?'}"`;
        assert.deepEqual(panel.datasource, datasourceRef, `${where}: panel datasource`);
        assert.ok((panel.targets ?? []).length > 0, `${where}: no query`);
      }
      for (const target of panelTargets(dashboard)) {
        assert.deepEqual(
          target.datasource,
          { type: 'prometheus', uid: '${datasource}' },
          `${dashboard.uid}: "${target.panel}" ${target.refId}`,
        );
        assert.match(target.refId, /^[A-Z]$/, `${dashboard.uid}: "${target.panel}" has a refId`);
      }
    }
  });

  test("every query parses as PromQL once Grafana's variables are substituted, and uses only variables the dashboard defines", () => {
    const problems: string[] = [];
    for (const dashboard of dashboards) {
      const values = variableValues(dashboard);
      const defined = new Set((dashboard.templating.list ?? []).map((variable) => variable.name));
      for (const { where, text } of queryTexts(dashboard)) {
        const place = `${dashboard.uid}: ${where}`;
        for (const name of variablesIn(text))
          if (!(name in grafanaBuiltins) && !defined.has(name)) problems.push(`${place}: $${name} is not a variable of the dashboard`);
        const expr = substituteVariables(text, values);
        // A variable's label_values(<selector>, <label>) is checked through its selector.
        const promql = /^label_values\((.+), \w+\)$/.exec(expr)?.[1] ?? expr;
        const { selectors, errors } = vectorSelectors(promql);
        for (const error of errors) problems.push(`${place}: ${error} in ${promql}`);
        if (selectors.length === 0) problems.push(`${place}: selects no series: ${promql}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test("every metric a query selects is declared in the tree (exporter catalogue, remediator's metrics, BullMQ, rules/, Prometheus)", async () => {
    const declared = await declaredMetrics(root);
    const unknown: string[] = [];
    for (const dashboard of dashboards) {
      for (const { where, text } of queryTexts(dashboard)) {
        const expr = substituteVariables(text, variableValues(dashboard));
        const promql = /^label_values\((.+), \w+\)$/.exec(expr)?.[1] ?? expr;
        for (const { metric, text: selector } of vectorSelectors(promql).selectors) {
          if (metric === undefined) unknown.push(`${dashboard.uid}: ${where}: ${selector} has no metric name`);
          else if (!declared.has(metric)) unknown.push(`${dashboard.uid}: ${where}: ${metric} (a typo, or a metric nothing produces)`);
        }
      }
    }
    assert.deepEqual(unknown, []);
  });

  for (const { title, prefix, place } of [
    { title: 'Reconciliation', prefix: 'remediator_reconcile_', place: 2 },
    { title: 'Drills', prefix: 'remediator_drill_', place: 1 },
  ])
    test(`the Recovery dashboard's rows end with Reconciliation then Drills; ${title} charts every ${prefix}* metric remediator registers`, async () => {
      const registry = new Registry();
      createMetrics({ registry, defaultMetrics: false });
      const metrics = (await registry.getMetricsAsJSON()).map((metric) => metric.name).filter((name) => name.startsWith(prefix));
      assert.ok(metrics.length > 0, `no ${prefix}* metric registered`);
      const recovery = dashboards.find((dashboard) => dashboard.uid === 'remediator-rto');
      assert.ok(recovery, 'no Recovery dashboard');
      const panels = recovery.panels ?? [];
      const rows = panels.flatMap((panel, index) => (panel.type === 'row' ? [index] : []));
      const at = rows[rows.length - place] ?? -1;
      // The newest rows come last, so the panels above keep their ids (and their viewPanel= links).
      assert.equal(panels[at]?.title, title, `${title} is the ${place === 1 ? 'last' : 'second to last'} row`);
      const row = { ...recovery, panels: panels.slice(at + 1, rows[rows.length - place + 1] ?? panels.length) };
      const charted = new Set(
        panelTargets(row).flatMap((target) =>
          vectorSelectors(substituteVariables(target.expr, variableValues(recovery))).selectors.map((selector) => selector.metric ?? ''),
        ),
      );
      assert.deepEqual(
        metrics.filter((name) => !charted.has(name)),
        [],
        `${prefix}* metrics without a panel in ${title}`,
      );
    });
});
