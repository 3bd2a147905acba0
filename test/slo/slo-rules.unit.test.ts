import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alertWindowsFor, builtInAlertWindows, burnFactor, type AlertWindows } from '../../tools/slo/burn-rate-windows.js';
import { sloRuleGroups, type AlertingRule, type RecordingRule } from '../../tools/slo/slo-rules.js';
import { definitions, spec } from './slo-fixture.js';

const day = 24 * 3_600_000;
/** The four factors of a table, page quick and slow, ticket quick and slow, as computed (before the floor of 1). */
const factors = (windows: AlertWindows | undefined) => {
  assert.ok(windows);
  return [windows.page.quick, windows.page.slow, windows.ticket.quick, windows.ticket.slow].map((w) => burnFactor(w, windows.sloPeriodMs));
};
const isAlert = (rule: RecordingRule | AlertingRule): rule is AlertingRule => 'alert' in rule;

describe('SLO rule generation', () => {
  test("burn-rate factors: the SRE workbook's for 30d, Sloth's tables for 28d and 7d", () => {
    assert.deepEqual(factors(alertWindowsFor(30 * day, builtInAlertWindows)), [14.4, 6, 3, 1]);
    assert.deepEqual(factors(alertWindowsFor(28 * day, builtInAlertWindows)), [13.44, 5.6, 2.8, 28 / 30]);
    assert.deepEqual(factors(alertWindowsFor(7 * day, builtInAlertWindows)), [13.44, 3.5, 1.4, 0.98]);
    assert.equal(alertWindowsFor(14 * day, builtInAlertWindows), undefined);
  });

  test('Sloth groups and record names, with sloth_id, sloth_service, sloth_slo (and sloth_window on the SLIs)', () => {
    const groups = sloRuleGroups(definitions(spec));
    assert.deepEqual(
      groups.map((group) => group.name),
      [
        'slo-indicators',
        'sloth-slo-sli-recordings-checkout-requests',
        'sloth-slo-meta-recordings-checkout-requests',
        'sloth-slo-alerts-checkout-requests',
        'sloth-slo-sli-recordings-checkout-uptime',
        'sloth-slo-meta-recordings-checkout-uptime',
        'sloth-slo-alerts-checkout-uptime',
      ],
    );
    const [, sli, meta] = groups;
    assert.ok(sli && meta);
    const sliRules = sli.rules as RecordingRule[];
    assert.deepEqual(
      sliRules.map((rule) => rule.record),
      ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '28d'].map((window) => `slo:sli_error:ratio_rate${window}`),
    );
    assert.deepEqual(sliRules[0]?.labels, {
      sloth_id: 'checkout-requests',
      sloth_service: 'checkout',
      sloth_slo: 'requests',
      sloth_window: '5m',
      team: 'payments',
    });
    assert.equal(sliRules[7]?.labels?.sloth_window, '28d');
    assert.match(
      sliRules.at(7)?.expr ?? '',
      /^sum_over_time\(slo:sli_error:ratio_rate5m\{sloth_id="checkout-requests", sloth_service="checkout", sloth_slo="requests"\}\[28d\]\)/,
    );
    const metaRules = meta.rules as RecordingRule[];
    assert.deepEqual(
      metaRules.map((rule) => [rule.record, rule.expr.split('\n')[0]]),
      [
        ['slo:objective:ratio', 'vector(0.999)'],
        ['slo:error_budget:ratio', 'vector(0.001)'],
        ['slo:time_period:days', 'vector(28)'],
        [
          'slo:current_burn_rate:ratio',
          'slo:sli_error:ratio_rate5m{sloth_id="checkout-requests", sloth_service="checkout", sloth_slo="requests"}',
        ],
        [
          'slo:period_burn_rate:ratio',
          'slo:sli_error:ratio_rate28d{sloth_id="checkout-requests", sloth_service="checkout", sloth_slo="requests"}',
        ],
        [
          'slo:period_error_budget_remaining:ratio',
          '1 - slo:period_burn_rate:ratio{sloth_id="checkout-requests", sloth_service="checkout", sloth_slo="requests"}',
        ],
        ['sloth_slo_info', 'vector(1)'],
      ],
    );
    assert.deepEqual(metaRules[0]?.labels, {
      sloth_id: 'checkout-requests',
      sloth_service: 'checkout',
      sloth_slo: 'requests',
      team: 'payments',
    });
  });

  test('the SLI ratio: errors / total, or 1 - good / total, with windows filled in and an empty total left out', () => {
    const groups = sloRuleGroups(definitions(spec));
    const errors = (groups[1]?.rules[2] as RecordingRule).expr;
    assert.equal(
      errors,
      '(\n  sum(rate(http_requests_total{job="checkout", code=~"5.."}[1h]))\n)\n/\n(\n  (sum(rate(http_requests_total{job="checkout"}[1h]))) > 0\n)',
    );
    const good = (groups[4]?.rules[0] as RecordingRule).expr;
    // `> 0` applies to the total alone: a good ratio of 0 (every event bad) must stay a sample, error ratio 1.
    assert.equal(
      good,
      '1 - (\n  (\n    sum(sum_over_time(job:up:min{job="checkout"}[5m]))\n  )\n  /\n  (\n    (sum(count_over_time(job:up:min{job="checkout"}[5m]))) > 0\n  )\n)',
    );
  });

  test('page and ticket alerts per SLO: factors × budget, severity, remediation none, escaped annotations', () => {
    const groups = sloRuleGroups(definitions(spec));
    const alerts = (groups[3]?.rules ?? []).filter(isAlert);
    assert.deepEqual(
      alerts.map((alert) => [alert.alert, alert.labels]),
      [
        [
          'SLOErrorBudgetBurnPage',
          {
            severity: 'page',
            remediation: 'none',
            sloth_id: 'checkout-requests',
            sloth_service: 'checkout',
            sloth_slo: 'requests',
            team: 'payments',
            sloth_severity: 'page',
          },
        ],
        [
          'SLOErrorBudgetBurnTicket',
          {
            severity: 'ticket',
            remediation: 'none',
            sloth_id: 'checkout-requests',
            sloth_service: 'checkout',
            sloth_slo: 'requests',
            team: 'payments',
            sloth_severity: 'ticket',
          },
        ],
      ],
    );
    const [page, ticket] = alerts;
    assert.ok(page && ticket);
    const thresholds = (expr: string) =>
      [...expr.matchAll(/ratio_rate(\w+)\{[^}]*\} > \(([\d.]+) \* ([\d.]+)\)/g)].map(
        (match) => `${match[1] ?? ''}>${match[2] ?? ''}*${match[3] ?? ''}`,
      );
    assert.deepEqual(thresholds(page.expr), ['5m>13.44*0.001', '1h>13.44*0.001', '30m>5.6*0.001', '6h>5.6*0.001']);
    assert.deepEqual(thresholds(ticket.expr), [
      '2h>2.8*0.001',
      '1d>2.8*0.001',
      // 10 % of a 28d budget in 3d is 0.93×, at which the budget lasts 30 days: raised to 1.
      '6h>1*0.001',
      '3d>1*0.001',
    ]);
    assert.match(page.expr, /^max without \(sloth_window\) \(/);
    assert.equal(page.annotations.summary, 'SLO checkout/requests (99.9 % over 28d) is burning its error budget fast');
    assert.match(page.annotations.description ?? '', /Dashboards show \{\{ "\{\{" \}\} \$value }} literally\.$/);
  });
});
