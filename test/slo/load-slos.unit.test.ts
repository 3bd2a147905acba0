import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { loadSlos, parseSlosSource, type LoadSlosResult } from '../../tools/slo/load-slos.js';
import type { SloDefinitions } from '../../tools/slo/slo.js';
import { formatProblem } from '../../src/sources/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function definitionsOf(result: LoadSlosResult): SloDefinitions {
  if (!result.success) assert.fail(`expected SLOs, got:\n${result.problems.map(formatProblem).join('\n')}`);
  return result.definitions;
}

function problemLines(result: LoadSlosResult): string[] {
  if (result.success) assert.fail(`expected problems, got ${result.definitions.slos.length} SLOs`);
  return result.problems.map(formatProblem);
}

const valid = `
services:
  - name: api
    labels: { team: core }
    slos:
      - name: availability
        objective: 99.95
        labels: { tier: "1" }
        sli:
          errorQuery: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(http_requests_total[{{ .window }}]))
`;

describe('loading rules/slos.yaml', () => {
  test('the shipped file: seed 001 table, the demo cache and the webhook, with exact budgets', async () => {
    const { slos, indicators } = definitionsOf(await loadSlos(`${root}rules/slos.yaml`, 'rules/slos.yaml'));
    assert.deepEqual(
      slos.map((slo) => [slo.id, slo.objective, slo.errorBudget, slo.window]),
      [
        ['field-layer-availability', 99.9, 0.001, '30d'],
        ['control-layer-availability', 99.95, 0.0005, '30d'],
        ['ai-layer-availability', 99.5, 0.005, '30d'],
        ['database-availability', 99.99, 0.0001, '30d'],
        ['mqtt-broker-availability', 99.99, 0.0001, '30d'],
        ['system-availability', 99.5, 0.005, '30d'],
        ['cache-availability', 99.9, 0.001, '30d'],
        ['remediator-webhook-availability', 99.9, 0.001, '30d'],
      ],
    );
    assert.deepEqual(
      indicators.map((indicator) => indicator.record),
      ['cluster:remediator_member_up:max', 'cluster:remediator_primary_up:max', 'system:remediator_available:min'],
    );
  });

  test('normalises: window defaults to 30d, labels merge (the SLO wins), ratios are exact in decimal', () => {
    const [slo] = definitionsOf(parseSlosSource('slos.yaml', valid)).slos;
    assert.ok(slo);
    assert.equal(slo.id, 'api-availability');
    assert.equal(slo.window, '30d');
    assert.equal(slo.windowDays, 30);
    assert.equal(slo.objectiveRatio, 0.9995);
    assert.equal(slo.errorBudget, 0.0005);
    assert.deepEqual(slo.labels, { team: 'core', tier: '1' });
    assert.equal(slo.sli.kind, 'errors');
  });

  test('every problem at once, each as file:line: path: message', () => {
    const text = `services:
  - name: api
    slos:
      - name: availability
        objective: 100
        windw: 30d
        sli:
          errorQuery: sum(rate(errors_total[5m]))
          goodQuery: sum(rate(ok_total[{{.window}}]))
          totalQuery: sum(rate(requests_total[{{.window}}])
      - name: availability
        objective: 99.9
        window: 30
        labels: { severity: high, sloth_id: x, ok_label: fine }
        sli:
          totalQuery: sum(rate(requests_total[{{.window}}]))
`;
    const lines = problemLines(parseSlosSource('rules/slos.yaml', text));
    // Schema problems come first, all of them; cross-field rules run once the schema passes.
    assert.deepEqual(lines, [
      'rules/slos.yaml:5: services[0].slos[0].objective: a percentage below 100 (an SLO of 100 % has no error budget)',
      'rules/slos.yaml:6: services[0].slos[0].windw: unknown key "windw"',
      'rules/slos.yaml:13: services[0].slos[1].window: Invalid input: expected string, received number',
      'rules/slos.yaml:14: services[0].slos[1].labels.severity: set by remediator slo generate; choose another label name',
      'rules/slos.yaml:14: services[0].slos[1].labels.sloth_id: set by remediator slo generate; choose another label name',
    ]);
  });

  test('cross-field rules report every problem at once, with lines', () => {
    const text = `indicators:
  - record: bad:indicator
    expr: max(up[{{.window}}])
services:
  - name: api
    slos:
      - name: availability
        objective: 99.9
        sli:
          errorQuery: sum(rate(errors_total[5m]))
          goodQuery: sum(rate(ok_total[{{.window}}]))
          totalQuery: sum(rate(requests_total[{{.window}}])
      - name: availability
        objective: 90
        sli:
          totalQuery: sum(rate(requests_total[{{.window}}])) + {{.other}}
  - name: api
    slos:
      - name: latency
        objective: 99
        window: 28d
        sli:
          goodQuery: sum(rate(fast_total[{{.window}}]))
          totalQuery: sum(rate(requests_total[{{.window}}]))
`;
    const lines = problemLines(parseSlosSource('rules/slos.yaml', text));
    assert.deepEqual(lines, [
      'rules/slos.yaml:3: indicators[0].expr: {{.window}} is only filled in in SLI queries',
      'rules/slos.yaml:10: services[0].slos[0].sli: give errorQuery or goodQuery, not both',
      'rules/slos.yaml:10: services[0].slos[0].sli.errorQuery: has no {{.window}}: the rate window of each recorded SLI goes there, e.g. rate(x[{{.window}}])',
      'rules/slos.yaml:12: services[0].slos[0].sli.totalQuery: PromQL unexpected end at offset 28',
      'rules/slos.yaml:13: services[0].slos[1].name: SLO "availability" is defined twice in service api',
      'rules/slos.yaml:14: services[0].slos[1].objective: an objective of 90 % over 30d leaves a budget so large that 14.4× of it is 100 % errors: the page alert over 1h could never fire',
      'rules/slos.yaml:16: services[0].slos[1].sli: give errorQuery (bad events) or goodQuery (good events), with totalQuery',
      'rules/slos.yaml:16: services[0].slos[1].sli.totalQuery: only {{.window}} is replaced in queries; no other template is allowed',
      'rules/slos.yaml:17: services[1].name: service "api" is already defined at services[0]',
    ]);
  });

  test('ids that collide across services are refused: they would share every recorded series', () => {
    const text = `services:
  - name: a-b
    slos:
      - name: c
        objective: 99
        sli: { goodQuery: 'sum(x[{{.window}}])', totalQuery: 'sum(y[{{.window}}])' }
  - name: a
    slos:
      - name: b-c
        objective: 99
        sli: { goodQuery: 'sum(x[{{.window}}])', totalQuery: 'sum(y[{{.window}}])' }
`;
    assert.deepEqual(problemLines(parseSlosSource('slos.yaml', text)), [
      'slos.yaml:9: services[1].slos[0].name: sloth_id "a-b-c" is also the id of an SLO of service a-b',
    ]);
  });

  test('syntax errors and a missing file are problems, not exceptions', async () => {
    assert.match(problemLines(parseSlosSource('slos.yaml', 'services: [\n'))[0] ?? '', /^slos\.yaml:\d+: /);
    assert.deepEqual(problemLines(await loadSlos('/nonexistent/slos.yaml', 'slos.yaml')), ['slos.yaml: cannot read the SLO file (ENOENT)']);
  });
});
