import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { webhookSchema, type WebhookPayload } from '../../src/alerts/webhook-schema.js';
import { createProblemList, readYamlSource, sortByLine, type SourceDocument, type SourceProblem } from '../../src/sources/index.js';
import type { BudgetSeed, HoldSeed } from '../simulate/sim-types.js';
import type { InputSeries } from '../simulate/series-prometheus.js';
import { expandSeriesValues, parseSeriesSelector } from '../simulate/series-notation.js';
import { testFileSchema, type AlertExpectation, type TestInput } from './test-file-schema.js';

/** One test, ready to simulate: its series expanded, its state and its webhook bodies built, with its expectations. */
export interface LoadedTest {
  name: string;
  series: InputSeries[];
  budgets: BudgetSeed[];
  holds: HoldSeed[];
  global?: { maxTargets: number; targetsWindowMs: number };
  inputs: { atMs: number; payload: WebhookPayload; expect: AlertExpectation[] }[];
}

/** A test file, read and checked: where its playbooks are, and its tests. */
export interface LoadedTestFile {
  /** As shown in messages. */
  file: string;
  document: SourceDocument;
  playbooksDir: string;
  inventory?: string;
  tests: LoadedTest[];
}

/**
 * A test file and every problem it has: without `file` when it could not be read or did not fit the schema; with it
 * otherwise (problems then are its series' and bodies', and the caller checks it against its playbooks too).
 */
export interface LoadTestFileResult {
  file?: LoadedTestFile;
  problems: SourceProblem[];
}

/** The test's clock starts at the epoch, as promtool's does. */
export const testStart = new Date(0);
const iso = (ms: number) => new Date(testStart.getTime() + ms).toISOString();

/** read → schema → series, webhook bodies and expectations; every problem at once, each at its line. */
export async function loadTestFile(path: string, displayPath: string): Promise<LoadTestFileResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return {
      problems: [{ file: displayPath, message: `cannot read the test file (${(error as NodeJS.ErrnoException).code ?? 'error'})` }],
    };
  }
  const read = readYamlSource(displayPath, text, 'test file');
  if (!read.success) return { problems: read.problems };
  const { document } = read;
  const list = createProblemList(document);
  const parsed = testFileSchema.safeParse(document.value);
  if (!parsed.success) {
    list.addIssues(parsed.error.issues);
    return { problems: sortByLine(list.problems) };
  }
  const tests = parsed.data.tests.map((test, t): LoadedTest => {
    const series: InputSeries[] = [];
    test.input_series.forEach((one, s) => {
      const selector = parseSeriesSelector(one.series);
      if (!selector.success) list.add(['tests', t, 'input_series', s, 'series'], selector.error);
      const values = expandSeriesValues(one.values);
      if (!values.success) list.add(['tests', t, 'input_series', s, 'values'], values.error);
      if (!selector.success || !values.success) return;
      series.push({
        ...selector.value,
        samples: values.value.flatMap((value, step) => (value === undefined ? [] : [{ atMs: step * test.interval, value }])),
      });
    });
    const inputs = test.inputs.map((input, i) => {
      const payload = buildPayload(input, (path, message) => {
        list.add(['tests', t, 'inputs', i, ...path], message);
      });
      // A body that is not one has no alerts to count: its own problems say enough.
      input.expect.forEach((expected, e) => {
        if (payload && expected.alert >= payload.alerts.length)
          list.add(['tests', t, 'inputs', i, 'expect', e, 'alert'], `the input has ${payload.alerts.length} alert(s)`);
      });
      return { atMs: input.at, payload: payload ?? emptyPayload, expect: input.expect };
    });
    const blast = test.state.blast_radius;
    return {
      name: test.name,
      series,
      budgets: test.state.budgets.map((seed) => ({ playbook: seed.playbook, target: seed.target, runsAtMs: seed.runs_at })),
      holds: test.state.holds.map((hold) => ({
        target: hold.target,
        reason: hold.reason,
        untilMs: hold.until,
        ...(hold.by === undefined ? {} : { by: hold.by }),
        ...(hold.from === undefined ? {} : { fromMs: hold.from }),
      })),
      ...(blast === undefined ? {} : { global: { maxTargets: blast.max_targets, targetsWindowMs: blast.window } }),
      inputs,
    };
  });
  const base = dirname(path);
  return {
    problems: sortByLine(list.problems),
    file: {
      file: displayPath,
      document,
      playbooksDir: resolve(base, parsed.data.playbooks),
      ...(parsed.data.inventory === undefined ? {} : { inventory: resolve(base, parsed.data.inventory) }),
      tests,
    },
  };
}

/** The webhook body of an input: built from its alerts as Alertmanager would send them, or its own; checked by the real schema. */
function buildPayload(input: TestInput, problem: (path: (string | number)[], message: string) => void): WebhookPayload | undefined {
  const body =
    input.webhook ??
    (() => {
      const alerts = (input.alerts ?? []).map((alert) => ({
        status: alert.status,
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt: iso(alert.starts_at ?? input.at),
        // Alertmanager's zero time for a firing alert's end.
        endsAt: alert.status === 'resolved' ? iso(alert.ends_at ?? input.at) : '0001-01-01T00:00:00Z',
        ...(alert.generator_url === undefined ? {} : { generatorURL: alert.generator_url }),
        ...(alert.fingerprint === undefined ? {} : { fingerprint: alert.fingerprint }),
      }));
      return {
        version: '4',
        receiver: 'remediator',
        status: alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
        groupLabels: {},
        commonLabels: {},
        commonAnnotations: {},
        alerts,
      };
    })();
  const parsed = webhookSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const prefix = input.webhook === undefined ? [] : ['webhook'];
  for (const issue of parsed.error.issues) {
    const path = issue.path.map((part) => (typeof part === 'number' ? part : String(part)));
    // Built alerts are reported at the test's own alert.
    problem(input.webhook === undefined && path[0] === 'alerts' ? path.slice(0, 2) : [...prefix, ...path], issue.message);
  }
  return undefined;
}

/** Stands in for a body with problems: the file is refused before anything runs. */
const emptyPayload: WebhookPayload = {
  receiver: 'remediator',
  status: 'firing',
  groupLabels: {},
  commonLabels: {},
  commonAnnotations: {},
  alerts: [],
};
