import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { tempDir } from '../helpers/temp-dir.js';
import { ourGroups, slothGroups, type Group, type Rule } from './sloth-compare.js';

const run = promisify(execFile);
const day = 24 * 3_600_000;

/**
 * One side's groups as recording rules under a prefix (`a:` remediator's, `b:` Sloth's): every series the rules
 * record or read (`slo:…`, `sloth_slo_info`) and every alert (as `<prefix>alert:<severity>`; its series carry the
 * SLO's sloth_id), so one promtool run
 * evaluates both generators' expressions on the same input series.
 */
function prefixed(groups: readonly Group[], prefix: string): Group[] {
  const rename = (expr: string) => expr.replace(/\bslo:/g, `${prefix}slo:`);
  return groups.map((group) => ({
    name: `${prefix}${group.name}`,
    rules: group.rules.map((rule): Rule => {
      const record = rule.record === undefined ? `${prefix}alert:${rule.labels?.sloth_severity ?? ''}` : `${prefix}${rule.record}`;
      return { record, expr: rename(rule.expr), ...(rule.record === undefined ? {} : { labels: rule.labels ?? {} }) };
    }),
  }));
}

/** Every record of a side, each once (several SLOs record the same names). */
const records = (groups: readonly Group[]) => [...new Set(groups.flatMap((group) => group.rules.map((rule) => rule.record ?? '')))];

/** The examples compared: events (getting-started), raw (raw-home-wifi), and 7d with a custom table (in-base). */
async function bothSides(): Promise<{ ours: Group[]; sloth: Group[] }> {
  const examplesgen = { extraLabels: { cmd: 'examplesgen.sh' } };
  const ours = [
    ...(await ourGroups(['getting-started.yml'], examplesgen)),
    ...(await ourGroups(['raw-home-wifi.yml'], examplesgen)),
    ...(await ourGroups(['in-base.yaml'], { defaultPeriodMs: 7 * day, windowsDir: 'windows' })),
  ] as unknown as Group[];
  const sloth = [
    ...(await slothGroups('_gen/getting-started.yml')),
    ...(await slothGroups('_gen/raw-home-wifi.yml')),
    ...(await slothGroups('_gen/out-base-custom-windows-7d.yaml')),
  ];
  return { ours, sloth };
}

/**
 * Input series in three phases of 2h: healthy (0.05 % of requests fail, satisfaction 99 %), an outage (5 % fail,
 * satisfaction 20 %: pages and tickets), a slow burn (0.5 %, satisfaction 97 %). Never zero traffic: there Sloth
 * records NaN and remediator nothing (the `> 0` denominator), a difference by design.
 */
const inputSeries = [
  { series: 'http_request_duration_seconds_count{job="myservice", code="200"}', values: '0+9995x120 1199400+9500x120 2339400+9950x120' },
  { series: 'http_request_duration_seconds_count{job="myservice", code="500"}', values: '0+5x120 600+500x120 60600+50x120' },
  { series: 'unifipoller_client_satisfaction_ratio{mac="aa"}', values: '0.99x120 0.2x120 0.97x120' },
];

describe("remediator's rules and Sloth's, evaluated by promtool on the same series", () => {
  test('every recorded series and every alert has the same values at every hour of a healthy, an outage and a slow-burn phase', async () => {
    const { ours, sloth } = await bothSides();
    const a = prefixed(ours, 'a:');
    const b = prefixed(sloth, 'b:');
    const names = records(ours).map((record) => record);
    assert.deepEqual(names, records(sloth), 'the same records on both sides');
    const alertNames = a.flatMap((group) => group.rules.map((rule) => rule.record ?? '')).filter((name) => name.startsWith('a:alert:'));
    assert.equal(alertNames.length, 6, 'page and ticket of getting-started, raw-home-wifi and in-base slo1 (slo02 has none)');
    const metrics = [...names, ...new Set(alertNames.map((name) => name.slice('a:'.length)))];
    const times = ['1h', '2h', '3h', '4h', '5h', '6h'];
    const checks = times.flatMap((time) =>
      metrics.flatMap((metric) => [
        // The same number of series on both sides (none on both is fine: an alert that does not fire)…
        {
          expr: `(count(a:${metric}) or vector(0)) - (count(b:${metric}) or vector(0))`,
          eval_time: time,
          exp_samples: [{ labels: '{}', value: 0 }],
        },
        // …with the same values, up to float noise (Sloth's budget is 0.0009999999999999432, remediator's 0.001).
        {
          expr: `count(abs(a:${metric} - b:${metric}) > 1e-9 * abs(b:${metric})) or vector(0)`,
          eval_time: time,
          exp_samples: [{ labels: '{}', value: 0 }],
        },
      ]),
    );
    // Not vacuous: the outage pages and tickets on both sides, the healthy phase does neither.
    const alerting = (time: string, count: number) => ({
      expr: `count({__name__=~"a:alert:.*"}) or vector(0)`,
      eval_time: time,
      exp_samples: [{ labels: '{}', value: count }],
    });
    const spec = {
      rule_files: ['rules.yml'],
      evaluation_interval: '5m',
      group_eval_order: [...a, ...b].map((group) => group.name),
      tests: [{ interval: '1m', input_series: inputSeries, promql_expr_test: [...checks, alerting('1h', 0), alerting('3h', 6)] }],
    };
    const dir = await tempDir('remediator-sloth-equivalence-');
    try {
      await writeFile(join(dir.path, 'rules.yml'), stringify({ groups: [...a, ...b] }, { lineWidth: 0 }));
      await writeFile(join(dir.path, 'equivalence.test.yml'), stringify(spec, { lineWidth: 0 }));
      const result = await run('promtool', ['test', 'rules', join(dir.path, 'equivalence.test.yml')]).then(
        ({ stdout }) => ({ ok: true, output: stdout }),
        (error: unknown) => {
          const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
          return { ok: false, output: `${stdout}${stderr}` };
        },
      );
      assert.ok(result.ok, result.output);
      assert.match(result.output, /SUCCESS/);
    } finally {
      await dir.remove();
    }
  });
});
