import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { syntheticAlertPayload } from '../../src/alerts/synthetic-alert.js';
import type { WebhookPayload } from '../../src/alerts/webhook-schema.js';
import { loadPlaybookSet, type PlaybookSet } from '../../tools/simulate/playbook-set.js';
import { simulate, type SimRun, type SimScenario, type SimScenarioResult } from '../../tools/simulate/simulator.js';
import { tempDir } from '../helpers/temp-dir.js';

const playbooks = {
  'guarded.yaml': `
name: guarded
match: '{alertname="Down"}'
target: '{{ labels.cluster }}'
guards:
  - name: replica-up
    query: 'max(member_up{cluster="{{ labels.cluster }}", role="replica"}) == 1'
budget: { maxRuns: 2, window: 1h }
steps:
  - { name: act, action: log, with: { message: 'acting on {{ labels.cluster }}' } }
`,
  'approved.yaml': `
name: approved
match: '{alertname="Risky"}'
target: '{{ labels.cluster }}'
approval: { required: true, timeout: 10m }
steps:
  - { name: act, action: log, with: { message: 'risky {{ labels.cluster }}' } }
`,
  'fenced.yaml': `
name: fenced
match: '{alertname="Split"}'
target: '{{ labels.cluster }}'
steps:
  - { name: act, action: log, with: { message: 'split {{ labels.cluster }}' } }
resolved:
  delay: 2m
  steps:
    - { name: fence, action: log, with: { message: 'fence {{ labels.cluster }}' } }
`,
};

const minute = 60_000;
const start = new Date(0);
const alert = (alertname: string, cluster: string, startsAtMs: number): WebhookPayload =>
  syntheticAlertPayload({ receiver: 'test', labels: { alertname, cluster }, startsAt: new Date(startsAtMs) });

/** The first run of input `input`, alert `alertIndex` (the test fails when there is none). */
function runOf(result: SimScenarioResult | undefined, input: number, alertIndex = 0): SimRun {
  const run = result?.inputs[input]?.alerts[alertIndex]?.runs[0];
  assert.ok(run, `a run for input ${input}, alert ${alertIndex} of ${result?.name ?? 'a missing scenario'}`);
  return run;
}

describe('the playbook simulator: the real intake and run processor, dry, on a controlled clock', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let set: PlaybookSet;
  let results: SimScenarioResult[];

  before(async () => {
    dir = await tempDir();
    for (const [name, text] of Object.entries(playbooks)) await writeFile(join(dir.path, name), text);
    const loaded = await loadPlaybookSet(dir.path);
    assert.ok(loaded.success, JSON.stringify(loaded));
    set = loaded.set;
    // member_up of cache's replica: 1 from 0 to 4m, 0 from 5m on (one value a minute).
    const replica = {
      name: 'member_up',
      labels: { cluster: 'cache', role: 'replica' },
      samples: [1, 1, 1, 1, 1, 0, 0, 0].map((value, step) => ({ atMs: step * minute, value })),
    };
    const steady = { ...replica, samples: Array.from({ length: 41 }, (_unused, step) => ({ atMs: step * minute, value: 1 })) };
    const scenarios: SimScenario[] = [
      {
        name: 'guard at a boundary',
        playbooks: set,
        start,
        series: [replica],
        inputs: [
          { atMs: 4 * minute + 59_000, payload: alert('Down', 'cache', 4 * minute) },
          { atMs: 5 * minute, payload: alert('Down', 'cache', 5 * minute) },
        ],
      },
      {
        name: 'budget from seeded state',
        playbooks: set,
        start,
        series: [steady],
        budgets: [{ playbook: 'guarded', target: 'cache', runsAtMs: [-30 * minute, -20 * minute] }],
        inputs: [
          { atMs: 1 * minute, payload: alert('Down', 'cache', 1 * minute) },
          // The first seeded run left the hour's window at 30m.
          { atMs: 30 * minute, payload: alert('Down', 'cache', 30 * minute) },
        ],
      },
      {
        name: 'dedupe',
        playbooks: set,
        start,
        series: [replica],
        inputs: [
          {
            atMs: 1 * minute,
            payload: { ...alert('Down', 'cache', 0), alerts: [...alert('Down', 'cache', 0).alerts, ...alert('Down', 'cache', 0).alerts] },
          },
          { atMs: 2 * minute, payload: alert('Down', 'cache', 0) },
        ],
      },
      {
        name: 'failback delay',
        playbooks: set,
        start,
        series: [],
        inputs: [
          { atMs: 0, payload: alert('Split', 'a', 0) },
          { atMs: 1 * minute, payload: resolved(alert('Split', 'a', 0), 1 * minute) },
          { atMs: 2 * minute, payload: alert('Split', 'a', 2 * minute) },
          { atMs: 3 * minute, payload: alert('Split', 'b', 0) },
          { atMs: 4 * minute, payload: resolved(alert('Split', 'b', 0), 4 * minute) },
        ],
      },
      {
        name: 'approval',
        playbooks: set,
        start,
        series: [],
        inputs: [{ atMs: 1 * minute, payload: alert('Risky', 'cache', 1 * minute) }],
      },
    ];
    results = await simulate(scenarios);
  });
  after(() => dir.remove());

  test("guards query Prometheus at the input's time: the last sample of 1 passes, the first 0 a second later skips", () => {
    const [passing, failing] = [runOf(results[0], 0), runOf(results[0], 1)];
    assert.equal(passing.outcome, 'would-run');
    assert.deepEqual(passing.steps, [
      { name: 'act', action: 'log', status: 'would-run', params: { message: 'acting on cache', level: 'info' } },
    ]);
    assert.equal(passing.at, '1970-01-01T00:04:59.000Z');
    assert.equal(failing.outcome, 'skipped');
    assert.equal(failing.skip?.kind, 'guard');
    assert.deepEqual(
      failing.guards?.map(({ name, status, result }) => ({ name, status, result })),
      [{ name: 'replica-up', status: 'failed', result: [] }],
    );
  });

  test('runs seeded before the start spend the budget: the third run in the hour is skipped, and admitted once the first seed left the window', () => {
    assert.deepEqual(results[1]?.problems, []);
    const refused = runOf(results[1], 0);
    assert.equal(refused.outcome, 'skipped');
    assert.equal(refused.skip?.kind, 'max-runs');
    assert.match(refused.skip.reason, /already ran 2 time\(s\) on cache in the last 3600000 ms/);
    assert.equal(runOf(results[1], 1).outcome, 'would-run');
  });

  test('the same alert twice in one body is one run, and its repeat in a later body is a duplicate the intake adds nothing for', () => {
    const alerts = results[2]?.inputs[0]?.alerts ?? [];
    assert.equal(alerts.length, 2);
    const [first, copy] = alerts;
    assert.equal(first?.runs.length, 1);
    assert.equal(runOf(results[2], 0).outcome, 'would-run');
    assert.equal(copy?.duplicateOf, 0);
    assert.deepEqual(copy.runs, []);
    const repeat = runOf(results[2], 1);
    assert.equal(repeat.outcome, 'duplicate');
    assert.equal(repeat.target, 'cache');
    assert.equal(repeat.jobId, runOf(results[2], 0).jobId);
  });

  test('a failback runs after its delay on the same clock, unless its alert fires again first', () => {
    const cancelled = runOf(results[3], 1);
    assert.equal(cancelled.phase, 'failback');
    assert.equal(cancelled.outcome, 'cancelled');
    assert.deepEqual(results[3]?.inputs[2]?.cancelledFailbacks, [cancelled.jobId]);
    const fenced = runOf(results[3], 4);
    assert.equal(fenced.outcome, 'would-run');
    assert.equal(fenced.at, '1970-01-01T00:06:00.000Z', '2m after the resolved notification at 4m');
    assert.deepEqual(
      fenced.steps.map((step) => step.name),
      ['fence'],
    );
  });

  test('a playbook that needs approval records the request a live run would make and, dry, goes on without waiting', () => {
    const run = runOf(results[4], 0);
    assert.equal(run.outcome, 'would-run');
    assert.deepEqual(run.approval, { state: 'pending', deadline: '1970-01-01T00:11:00.000Z' });
    assert.deepEqual(
      run.steps.map((step) => step.status),
      ['would-run'],
    );
  });
});

function resolved(payload: WebhookPayload, endsAtMs: number): WebhookPayload {
  return {
    ...payload,
    status: 'resolved',
    alerts: payload.alerts.map((one) => ({ ...one, status: 'resolved', endsAt: new Date(endsAtMs).toISOString() })),
  };
}
