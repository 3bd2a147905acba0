import assert from 'node:assert/strict';
import { sourceCommand } from '../../tools/harness/remediator-process.js';
import { repoRoot } from '../../tools/harness/repo-root.js';
import { runDemo, type DemoSummary } from '../../tools/lab/run-demo.js';
import type { Scenario } from '../../tools/lab/scenarios/index.js';

/** Runs the demo's lab through one scenario, once, in this process, and returns its summary; progress lines are kept for a failure. */
export async function runScenarioDemo(scenario: Scenario): Promise<{ summary: DemoSummary; seconds: number; log: string[] }> {
  const log: string[] = [];
  const started = Date.now();
  const summary = await runDemo({
    root: repoRoot,
    self: sourceCommand(),
    once: true,
    dryRun: false,
    scenario,
    log: (line) => log.push(line),
    stopRequested: Promise.resolve(),
    report: () => undefined,
  });
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(`scenario ${scenario.name}: ${seconds.toFixed(1)} s, RTO ${String(summary.rtoSeconds)} s\n`);
  return { summary, seconds, log };
}

/**
 * What every scenario must show: the expected number of promotions, never two members accepting writes in one
 * round of the write probe, and no write accepted by a stale primary.
 */
export function assertScenarioOutcome(summary: DemoSummary, expected: { promotions: number }): void {
  const what = JSON.stringify({ mode: summary.mode, events: summary.events, skips: summary.skips, finalRoles: summary.finalRoles });
  assert.equal(summary.scenario.length > 0, true);
  assert.equal(summary.promotions, expected.promotions, `promotions: ${what}`);
  assert.ok(summary.primariesSeenAtOnce <= 1, `at most one member accepted writes at once (saw ${summary.primariesSeenAtOnce}): ${what}`);
  assert.equal(summary.writesAcceptedByStalePrimary, 0, `writes accepted by a stale primary: ${what}`);
  assert.ok(summary.sideEffects.roleSamples > 30, 'ROLE was polled throughout');
}
