import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { builtInAlertWindows, type AlertWindows } from '../../tools/slo/burn-rate-windows.js';
import { parseSlothDocument, type SlothForm } from '../../tools/slo/load-sloth-spec.js';
import { sloRuleGroups, type AlertingRule } from '../../tools/slo/slo-rules.js';
import type { SloSpec } from '../../tools/slo/slo.js';
import { formatProblem, readYamlDocuments } from '../../src/sources/index.js';

const day = 24 * 3_600_000;

function load(
  text: string,
  form: SlothForm = 'prometheus/v1',
  options: { periodDays?: number; catalog?: readonly AlertWindows[]; extraLabels?: Record<string, string> } = {},
) {
  const read = readYamlDocuments('slos/checkout.yml', text);
  if (!read.success) assert.fail(read.problems.map(formatProblem).join('\n'));
  const [document] = read.documents;
  assert.ok(document);
  return parseSlothDocument(document, form, {
    catalog: options.catalog ?? builtInAlertWindows,
    defaultPeriodMs: (options.periodDays ?? 30) * day,
    extraLabels: options.extraLabels ?? {},
  });
}

function slosOf(result: ReturnType<typeof load>): SloSpec[] {
  if (!result.success) assert.fail(result.problems.map(formatProblem).join('\n'));
  return result.slos;
}

function problemLines(result: ReturnType<typeof load>): string[] {
  if (result.success) assert.fail(`expected problems, got ${result.slos.length} SLOs`);
  return result.problems.map(formatProblem);
}

const events = `
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))`;

const spec = `version: prometheus/v1
service: checkout
labels: { team: payments, tier: "1" }
slos:
  - name: requests
    objective: 99.9
    labels: { tier: "2" }
    sli:${events}
    alerting:
      name: CheckoutErrors
      labels: { category: availability }
      annotations: { runbook: https://runbooks/checkout }
      page_alert:
        labels: { severity: critical }
        annotations: { runbook: https://runbooks/checkout-page }
      ticket_alert:
        disable: true
  - name: quiet
    objective: 99
    sli:
      raw:
        error_ratio_query: 1 - avg_over_time(up{job="checkout"}[{{.window}}])
    alerting:
      page_alert: { disable: true }
      ticket_alert: { disable: true }
`;

describe('reading a Sloth spec', () => {
  test('prometheus/v1: ids, labels (the SLO over the service, extra labels over both), alerts merged, a disabled alert absent', () => {
    const [requests, quiet] = slosOf(load(spec, 'prometheus/v1', { extraLabels: { cmd: 'ci', tier: '3' } }));
    assert.ok(requests && quiet);
    assert.equal(requests.id, 'checkout-requests');
    assert.deepEqual(requests.labels, { team: 'payments', tier: '3', cmd: 'ci' });
    assert.deepEqual(requests.alerting, {
      style: 'sloth',
      alerts: {
        page: {
          name: 'CheckoutErrors',
          labels: { category: 'availability', severity: 'critical' },
          annotations: { runbook: 'https://runbooks/checkout-page' },
        },
      },
    });
    assert.deepEqual(quiet.sli, { kind: 'raw', errorRatioQuery: '1 - avg_over_time(up{job="checkout"}[{{.window}}])' });
    const groups = sloRuleGroups({ indicators: [], slos: [requests, quiet] });
    assert.deepEqual(
      groups.map((group) => group.name),
      [
        'sloth-slo-sli-recordings-checkout-requests',
        'sloth-slo-meta-recordings-checkout-requests',
        'sloth-slo-alerts-checkout-requests',
        // Both alerts disabled: no alert group, as Sloth writes it.
        'sloth-slo-sli-recordings-checkout-quiet',
        'sloth-slo-meta-recordings-checkout-quiet',
      ],
    );
    const [page, ...others] = (groups[2]?.rules ?? []) as AlertingRule[];
    assert.ok(page);
    assert.equal(others.length, 0, 'the disabled ticket is not written');
    assert.deepEqual(page.labels, { category: 'availability', severity: 'critical', sloth_severity: 'page' });
    assert.deepEqual(page.annotations, {
      runbook: 'https://runbooks/checkout-page',
      summary: '{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected.',
      title: '(page) {{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is too fast.',
    });
  });

  test('PrometheusServiceLevel: the camelCase keys, problems under spec', () => {
    const k8s = `apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata: { name: checkout, namespace: monitoring, labels: { app: checkout } }
spec:
  service: checkout
  slos:
    - name: requests
      objective: 99.9
      sli:
        events:
          errorQuery: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(http_requests_total[{{.window}}]))
      alerting:
        name: CheckoutErrors
        pageAlert: { labels: { severity: critical } }
        ticketAlert: { disable: true }
`;
    const [slo] = slosOf(load(k8s, 'kubernetes'));
    assert.deepEqual(Object.keys(slo?.alerting.style === 'sloth' ? slo.alerting.alerts : {}), ['page']);
    assert.deepEqual(slo?.infoLabels, { sloth_mode: 'cli-gen-k8s', sloth_spec: 'sloth.slok.dev/v1', sloth_version: 'remediator' });
    assert.deepEqual(problemLines(load(k8s.replace('pageAlert', 'page_alert'), 'kubernetes')), [
      'slos/checkout.yml:15: spec.slos[0].alerting.page_alert: unknown key "page_alert"',
    ]);
  });

  test('strict: every unknown key and bad value at once, each with its line and path', () => {
    const text = spec
      .replace('labels: { team', 'labelz: { team')
      .replace('objective: 99.9', 'objective: 99.9\n    windw: 7d')
      .replace('ticket_alert:\n        disable: true', 'ticket_alert:\n        disabled: true')
      .replace('labels: { tier: "2" }', 'labels: { tier: 2, sloth_window: x }');
    assert.deepEqual(problemLines(load(text)), [
      'slos/checkout.yml:3: labelz: unknown key "labelz"',
      'slos/checkout.yml:7: slos[0].windw: unknown key "windw"',
      'slos/checkout.yml:8: slos[0].labels.tier: Invalid input: expected string, received number',
      'slos/checkout.yml:8: slos[0].labels.sloth_window: sloth_* labels are set by the generator; choose another label name',
      'slos/checkout.yml:21: slos[0].alerting.ticket_alert.disabled: unknown key "disabled"',
    ]);
  });

  test('an SLI plugin is an error naming the plugin, with sli.events or sli.raw as the way out; SLO plugins too', () => {
    const text = spec
      .replace(events, '\n      plugin:\n        id: sloth-common/kubernetes/apiserver/availability\n        options: { filter: x }')
      .replace('slos:\n', 'slo_plugins:\n  chain: [{ id: sloth.dev/contrib/info_labels/v1 }]\nslos:\n');
    assert.deepEqual(problemLines(load(text)), [
      "slos/checkout.yml:5: slo_plugins: SLO plugins are not supported by remediator slo generate (it generates what Sloth's default plugins do); remove them",
      'slos/checkout.yml:12: slos[0].sli.plugin.id: SLI plugin "sloth-common/kubernetes/apiserver/availability" cannot be expanded: Sloth loads SLI plugins as Go code from a plugins directory, which remediator does not run; write the query the plugin makes as sli.events or sli.raw instead',
    ]);
  });

  test("Sloth's validation: one SLI type, different error and total queries, {{.window}}, a name unless both alerts are off", () => {
    const text = spec
      .replace(
        'error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))',
        'error_query: sum(rate(http_requests_total[{{.window}}]))',
      )
      .replace('      name: CheckoutErrors\n', '')
      .replace(
        '[{{.window}}])\n    alerting:\n      page_alert: { disable: true }',
        '[5m])\n    alerting:\n      page_alert: { disable: false }',
      );
    assert.deepEqual(problemLines(load(text)), [
      "slos/checkout.yml:10: slos[0].sli.events: the error and total queries can't be the same",
      'slos/checkout.yml:13: slos[0].alerting: alerting.name is required unless both alerts are disabled (page enabled)',
      'slos/checkout.yml:24: slos[1].sli.raw.error_ratio_query: has no {{.window}}: the rate window of each recorded SLI goes there, e.g. rate(x[{{.window}}])',
      'slos/checkout.yml:26: slos[1].alerting: alerting.name is required unless both alerts are disabled (page enabled)',
    ]);
  });

  test('a period without a burn-rate table is an error naming the SLO, the period and how to supply one', () => {
    assert.deepEqual(problemLines(load(spec, 'prometheus/v1', { periodDays: 14 })), [
      'slos/checkout.yml:5: slos[0].name: SLO checkout/requests: no burn-rate table for a 14d period (tables: 30d, 28d, 7d); write a Sloth AlertWindows file with sloPeriod: 14d into a directory and pass it with --slo-period-windows-path',
      'slos/checkout.yml:21: slos[1].name: SLO checkout/quiet: no burn-rate table for a 14d period (tables: 30d, 28d, 7d); write a Sloth AlertWindows file with sloPeriod: 14d into a directory and pass it with --slo-period-windows-path',
    ]);
  });

  test("7d and 28d use Sloth's tables and name their period as Sloth does (1w, 4w)", () => {
    const [week] = slosOf(load(spec, 'prometheus/v1', { periodDays: 7 }));
    const [fourWeeks] = slosOf(load(spec, 'prometheus/v1', { periodDays: 28 }));
    assert.deepEqual([week?.window, week?.windowDays, week?.windows.ticket.slow.errorBudgetPercent], ['1w', 7, 42]);
    assert.deepEqual([fourWeeks?.window, fourWeeks?.windowDays], ['4w', 28]);
  });
});
