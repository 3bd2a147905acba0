import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { VariableType } from '@grafana/grafana-foundation-sdk/dashboard';
import { parseDuration } from '../../src/core/duration.js';
import { allDashboards } from '../../tools/dashboards/generate-dashboards.js';
import { panelTargets, substituteVariables, vectorSelectors } from '../../tools/dashboards/panel-targets.js';
import { labStreamCluster } from '../../tools/lab/lab-streams.js';
import { runDemo, type DemoSummary } from '../../tools/lab/run-demo.js';
import { waitFor } from '../helpers/wait.js';
import { declaredMetrics } from './known-metrics.js';
import { labRangeSeconds, variableValues } from './lab-variables.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Set to 1 to see every query's answer (series and the last value of the first), to check the numbers make sense. */
const verbose = process.env.DASHBOARDS_VERBOSE === '1';

interface ApiAnswer<T> {
  status: 'success' | 'error';
  error?: string;
  data: T;
}
type Sample = [number, string];
interface QueryResult {
  resultType: string;
  result: { metric: Record<string, string>; value?: Sample; values?: Sample[] }[];
}

/** Asks the lab's Prometheus; a rejected query (a syntax or matching error) throws with Prometheus's words. */
async function api<T>(base: string, path: string, params: Record<string, string>): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  const body = (await response.json()) as ApiAnswer<T>;
  if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error ?? response.status}`);
  return body.data;
}

/** The targets Prometheus scrapes, with when it last did and how often. */
async function scrapeTargets(base: string): Promise<{ lastScrape: string; scrapeInterval: string }[]> {
  const body = (await (await fetch(`${base}/api/v1/targets?state=active`)).json()) as ApiAnswer<{
    activeTargets: { lastScrape: string; scrapeInterval: string }[];
  }>;
  return body.data.activeTargets;
}

/** One panel query as the lab answered it. */
interface Answer {
  where: string;
  expr: string;
  series: number;
  /** Every value is NaN (e.g. a quantile over no observation). */
  onlyNaN: boolean;
  /** The first series' labels and last value, for DASHBOARDS_VERBOSE. */
  sample: string;
  /** Selectors of the expression that matched no series in the whole lab run. */
  absent: string[];
}

describe('every dashboard panel shows data in the live lab (after a failover and the fencing of the old primary)', () => {
  let stop: () => void = () => undefined;
  let lab: Promise<DemoSummary> | undefined;
  let prometheus = '';
  const answers: Answer[] = [];
  const emptyVariables: string[] = [];

  before(
    async () => {
      const stopRequested = new Promise<void>((resolve) => {
        stop = resolve;
      });
      let reported: (summary: DemoSummary) => void = () => undefined;
      const summary = new Promise<DemoSummary>((resolve) => {
        reported = resolve;
      });
      lab = runDemo({
        root,
        self: { command: process.execPath, args: ['--import', 'tsx', join(root, 'src', 'main.ts')] },
        once: false,
        dryRun: false,
        log: () => undefined,
        stopRequested,
        report: (value) => {
          reported(value);
        },
      });
      const first = await Promise.race([
        summary,
        lab.then(() => {
          throw new Error('the lab stopped before reporting a recovery');
        }),
      ]);
      assert.equal(first.dryRun, false);
      prometheus = first.urls.prometheus ?? '';
      assert.ok(prometheus, `the lab reports no Prometheus URL: ${JSON.stringify(first.urls)}`);
      // The runs finished before the report; let Prometheus scrape their counters and histograms twice more, so
      // rate() and increase() have samples on both sides of them.
      await waitFor(
        'the finished runs to be scraped',
        async () => {
          const data = await api<QueryResult>(prometheus, '/api/v1/query', { query: 'sum(remediator_runs_total) > 0' });
          return data.result.length > 0;
        },
        30_000,
        250,
      );
      // Every target's second scrape after now: the first one at or after now, the second a whole interval later.
      const now = Date.now();
      await waitFor(
        'every target to be scraped twice more',
        async () => {
          const targets = await scrapeTargets(prometheus);
          return (
            targets.length > 0 &&
            targets.every((target) => Date.parse(target.lastScrape) >= now + (parseDuration(target.scrapeInterval) ?? Infinity))
          );
        },
        30_000,
        250,
      );

      const end = Date.now() / 1000;
      const start = end - labRangeSeconds;
      const seriesIn = async (selector: string) =>
        (await api<unknown[]>(prometheus, '/api/v1/series', { 'match[]': selector, start: String(end - 3600), end: String(end) })).length;
      for (const dashboard of allDashboards()) {
        const values = variableValues(dashboard);
        for (const target of panelTargets(dashboard)) {
          const expr = substituteVariables(target.expr, values);
          const data = target.instant
            ? await api<QueryResult>(prometheus, '/api/v1/query', { query: expr, time: String(end) })
            : await api<QueryResult>(prometheus, '/api/v1/query_range', { query: expr, start: String(start), end: String(end), step: '5' });
          const samples = data.result.flatMap((series) => series.values ?? (series.value ? [series.value] : []));
          const absent: string[] = [];
          for (const { text } of vectorSelectors(expr).selectors) if ((await seriesIn(text)) === 0) absent.push(text);
          answers.push({
            where: `${dashboard.title ?? '?'} › ${target.panel} (${target.refId})`,
            expr,
            series: samples.length === 0 ? 0 : data.result.length,
            onlyNaN: samples.length > 0 && samples.every(([, value]) => value === 'NaN'),
            sample: data.result[0]
              ? `${JSON.stringify(data.result[0].metric)} ${(data.result[0].values?.at(-1) ?? data.result[0].value)?.[1] ?? ''}`
              : '',
            absent,
          });
        }
        for (const variable of dashboard.templating.list ?? []) {
          if (variable.type !== VariableType.Query) continue;
          const [, selector = '', label = ''] =
            /^label_values\((.+), (\w+)\)$/.exec(substituteVariables(variable.definition ?? '', values)) ?? [];
          const found = await api<Record<string, string>[]>(prometheus, '/api/v1/series', {
            'match[]': selector,
            start: String(start),
            end: String(end),
          });
          if (!found.some((series) => series[label]))
            emptyVariables.push(`${dashboard.title ?? '?'} › $${variable.name}: ${variable.definition ?? ''}`);
        }
      }
    },
    { timeout: 300_000 },
  );

  test('the stream cluster stays in the background: its member never down, no alert about it', async () => {
    const end = Date.now() / 1000;
    const range = { start: String(end - 3600), end: String(end), step: '1' };
    const down = await api<QueryResult>(prometheus, '/api/v1/query_range', {
      query: `remediator_member_up{cluster="${labStreamCluster}"} == 0`,
      ...range,
    });
    assert.deepEqual(
      down.result.map((series) => series.metric),
      [],
      'the stream member was reported down',
    );
    const up = await api<QueryResult>(prometheus, '/api/v1/query_range', {
      query: `remediator_member_up{cluster="${labStreamCluster}", role="primary"}`,
      ...range,
    });
    assert.equal(up.result.length, 1, `one stream member: ${JSON.stringify(up.result.map((series) => series.metric))}`);
    // Pending counts too: InstanceDown (for: 15s) or NoHealthyInstances must not even start for it.
    const alerts = await api<Record<string, string>[]>(prometheus, '/api/v1/series', {
      'match[]': `ALERTS{cluster="${labStreamCluster}"}`,
      start: range.start,
      end: range.end,
    });
    assert.deepEqual(alerts, [], 'alerts about the stream cluster');
  });

  after(
    async () => {
      stop();
      await lab;
    },
    { timeout: 60_000 },
  );

  test('every panel query returns data (an empty one fails, with the series the lab lacks)', async (t) => {
    const declared = await declaredMetrics(root);
    const empty = answers.filter((answer) => answer.series === 0);
    const why = (answer: Answer) => {
      if (answer.absent.length === 0) return 'every selector has series: the query itself is wrong';
      const metrics = answer.absent.map((selector) => vectorSelectors(selector).selectors[0]?.metric ?? selector);
      const waiting = metrics.filter((metric) => !declared.has(metric));
      if (waiting.length > 0) return `nothing in the tree produces ${[...new Set(waiting)].join(', ')} yet`;
      return `the lab produced no series for ${answer.absent.join(', ')}`;
    };
    const lines = [
      `${answers.length} panel queries, ${answers.length - empty.length} with data, ${empty.length} empty`,
      ...empty.map((answer) => `  EMPTY ${answer.where}: ${why(answer)}`),
      ...answers.filter((answer) => answer.onlyNaN).map((answer) => `  NaN only ${answer.where}: no observation in the range`),
      ...answers
        .filter((answer) => answer.series > 0 && answer.absent.length > 0)
        .map(
          (answer) =>
            `  partly ${answer.where}: has data (its other selectors, or its 0 default) but no series for ${answer.absent.join(', ')}`,
        ),
      ...emptyVariables.map((variable) => `  no values for ${variable}`),
      ...(verbose ? answers.map((answer) => `  ${answer.where}: ${answer.series} series, e.g. ${answer.sample}`) : []),
    ];
    for (const line of lines) t.diagnostic(line);

    const wrong = empty.filter((answer) => answer.absent.length === 0);
    assert.deepEqual(
      wrong.map((answer) => `${answer.where}: ${answer.expr}`),
      [],
      'queries empty although every series they select exists',
    );
    assert.deepEqual(
      empty.map((answer) => `${answer.where}: ${why(answer)}`),
      [],
      'every panel must show data (no empty panel after a failover)',
    );
  });
});
