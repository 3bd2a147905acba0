import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { alertFactor, alertWindowsFor, builtInAlertWindows, sliWindows } from '../../tools/slo/burn-rate-windows.js';
import { raisedFactorNotices } from '../../tools/slo/factor-notices.js';
import { loadAlertWindowsDir, parseAlertWindowsSource } from '../../tools/slo/load-alert-windows.js';
import { formatPromDuration, parsePromDuration } from '../../tools/slo/prom-duration.js';
import { formatProblem } from '../../src/sources/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { examplesDir } from './sloth-compare.js';
import { definitions } from './slo-fixture.js';

const day = 24 * 3_600_000;

describe('burn-rate tables', () => {
  test('a computed factor below 1 is raised to 1 (7d ticket over 3d: 0.98; 28d: 0.93); 1 and above are kept', () => {
    const week = alertWindowsFor(7 * day, builtInAlertWindows);
    const fourWeeks = alertWindowsFor(28 * day, builtInAlertWindows);
    const month = alertWindowsFor(30 * day, builtInAlertWindows);
    assert.ok(week && fourWeeks && month);
    assert.deepEqual(alertFactor(week.ticket.slow, week.sloPeriodMs), { factor: 1, computed: 0.98, raised: true });
    assert.deepEqual(alertFactor(fourWeeks.ticket.slow, fourWeeks.sloPeriodMs), { factor: 1, computed: 28 / 30, raised: true });
    assert.deepEqual(alertFactor(month.ticket.slow, month.sloPeriodMs), { factor: 1, computed: 1, raised: false });
    assert.deepEqual(alertFactor(week.ticket.quick, week.sloPeriodMs), { factor: 1.4, computed: 1.4, raised: false });
  });

  test('each raised factor gets a notice naming the SLO, the window and the computed factor', () => {
    const slos = definitions(`services:
  - name: checkout
    slos:
      - name: week
        objective: 99.9
        window: 7d
        sli: { goodQuery: 'sum(x[{{.window}}])', totalQuery: 'sum(y[{{.window}}])' }
      - name: month
        objective: 99.9
        sli: { goodQuery: 'sum(x[{{.window}}])', totalQuery: 'sum(y[{{.window}}])' }
`).slos;
    assert.deepEqual(raisedFactorNotices(slos), [
      'SLO checkout-week: the ticket alert over 3d (42 % of the 7d budget) would fire at 0.98×, at which the budget lasts 7.14 days and never runs out; its factor is raised to 1',
    ]);
  });

  test('Prometheus durations as Sloth prints them: 28d is 4w, 7d is 1w, 36h is 1d12h, 30d stays 30d', () => {
    assert.deepEqual(
      ['28d', '7d', '36h', '30d', '24h', '90m'].map((text) => formatPromDuration(parsePromDuration(text) ?? 0)),
      ['4w', '1w', '1d12h', '30d', '1d', '1h30m'],
    );
    assert.equal(parsePromDuration('5'), undefined);
    assert.equal(parsePromDuration('0s'), undefined);
  });

  test("a custom table (Sloth's examples/windows/custom-30d.yaml): its windows are recorded, shortest first, with its factors", async () => {
    const loaded = await loadAlertWindowsDir(join(examplesDir, 'windows-custom-30d'), 'windows-custom-30d');
    if (!loaded.success) assert.fail(loaded.problems.map(formatProblem).join('\n'));
    const [table] = loaded.windows;
    assert.ok(table);
    assert.deepEqual(sliWindows(table), ['2m', '15m', '30m', '1h', '3h', '12h', '1d12h']);
    assert.deepEqual(
      [table.page.quick, table.page.slow, table.ticket.quick, table.ticket.slow].map((w) => alertFactor(w, table.sloPeriodMs).factor),
      [14.4, 4.8, 3, 1],
    );
  });

  test('AlertWindows files are strict and checked: unknown keys, the kind, a short window not shorter than the long one', () => {
    const text = `apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 14d
  page:
    quick: { errorBudgetPercent: 2, shortWindow: 5m, longWindow: 1h }
    slow: { errorBudgetPercent: 5, shortWindow: 6h, longWindow: 6h }
  ticket:
    quick: { errorBudgetPercent: 10, shortWindow: 2h, longWindow: 1d }
    slow: { errorBudgetPercent: 10, shortWindow: 6h, longWindow: 3d, budget: 1 }
`;
    const problems = (source: string) => {
      const result = parseAlertWindowsSource('windows/14d.yaml', source);
      if (result.success) assert.fail('expected problems');
      return result.problems.map(formatProblem);
    };
    assert.deepEqual(problems(text), ['windows/14d.yaml:10: spec.ticket.slow.budget: unknown key "budget"']);
    assert.deepEqual(problems(text.replace(', budget: 1', '')), [
      'windows/14d.yaml:7: spec.page.slow.shortWindow: must be shorter than longWindow (6h): it only tells that the burn goes on now',
    ]);
    assert.deepEqual(
      problems(text.replace('kind: AlertWindows', 'kind: AlertWindow').replace(', budget: 1', '').replace('5m', '5 minutes')),
      [
        'windows/14d.yaml:2: kind: must be AlertWindows',
        'windows/14d.yaml:6: spec.page.quick.shortWindow: a Prometheus duration, e.g. 5m, 6h, 3d',
      ],
    );
  });

  test('a windows directory replaces the built-in tables; two different tables for one period are an error', async () => {
    const dir = await tempDir('remediator-alert-windows-');
    try {
      const week = `apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 7d
  page: { quick: { errorBudgetPercent: 8, shortWindow: 5m, longWindow: 1h }, slow: { errorBudgetPercent: 12.5, shortWindow: 30m, longWindow: 6h } }
  ticket: { quick: { errorBudgetPercent: 20, shortWindow: 2h, longWindow: 24h }, slow: { errorBudgetPercent: 42, shortWindow: 6h, longWindow: 72h } }
`;
      await writeFile(join(dir.path, 'a.yaml'), week);
      await mkdir(join(dir.path, 'more'));
      await writeFile(join(dir.path, 'more', 'b.yml'), week);
      const same = await loadAlertWindowsDir(dir.path, 'windows');
      if (!same.success) assert.fail(same.problems.map(formatProblem).join('\n'));
      assert.deepEqual(
        same.windows.map((table) => [table.sloPeriodMs / day, table.ticket.quick.longWindow, table.ticket.slow.longWindow]),
        [[7, '1d', '3d']],
        'one table (the copy is the same), 24h and 72h printed as Prometheus does; no built-in 30d',
      );
      await writeFile(join(dir.path, 'more', 'b.yml'), week.replace('errorBudgetPercent: 42', 'errorBudgetPercent: 40'));
      const different = await loadAlertWindowsDir(dir.path, 'windows');
      assert.deepEqual(different.success ? [] : different.problems.map(formatProblem), [
        'windows/more/b.yml: a different table for the 7d period is already in windows/a.yaml',
      ]);
    } finally {
      await dir.remove();
    }
  });
});
