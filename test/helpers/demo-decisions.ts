import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createDefaultActions } from '../../src/actions/default-actions.js';
import type { DemoRunDecision, DemoSummary } from '../../tools/lab/run-demo.js';
import { parsePlaybookSource } from '../../src/playbooks/load-playbooks.js';
import type { Playbook } from '../../src/core/playbook.js';
import { renderValue } from '../../src/core/template/template.js';
import { runRemediator } from './remediator-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Only the actions' schemas and escapes are used: no client is built without SMTP or Prometheus settings.
const actions = createDefaultActions({ smtpUrl: undefined, smtpFrom: 'lab@localhost', prometheusUrl: undefined, path: undefined });

/** Runs `remediator demo <args>` to the end and returns its JSON summary (the last JSON line on stdout). */
export async function runDemoJson(args: string[]): Promise<{ summary: DemoSummary; seconds: number }> {
  const started = Date.now();
  const demo = runRemediator(['demo', ...args], {});
  const { code } = await demo.exited;
  const output = demo.output();
  if (code !== 0) throw new Error(`remediator demo ${args.join(' ')} exited ${String(code)}:\n${output.slice(-3000)}`);
  const line =
    output
      .trim()
      .split('\n')
      .filter((text) => text.startsWith('{'))
      .at(-1) ?? '';
  return { summary: JSON.parse(line) as DemoSummary, seconds: (Date.now() - started) / 1000 };
}

/**
 * What remediator decided in a demo, without what differs between two runs of it (run ids, times, outcomes):
 * for each alert, oldest first, the playbook it matched, the phase, the target, the guards' verdicts, a skip,
 * and the steps in order with their actions.
 */
export function decisionsOf(summary: DemoSummary) {
  return summary.runs.map((run) => ({
    alert: { alertname: run.alert.alertname, instance: run.alert.instance, status: run.alert.status },
    playbook: run.playbook,
    phase: run.phase,
    target: run.target,
    guards: (run.guards ?? []).map((guard) => `${guard.name}: ${guard.status}`),
    skip: run.skip?.kind ?? null,
    steps: run.steps.map((step) => `${step.name} (${step.action})`),
  }));
}

/** The playbook the lab runs, loaded from remediations/ with the real action schemas. */
export async function shippedPlaybook(name: string): Promise<Playbook> {
  const file = `remediations/${name}.yaml`;
  const result = parsePlaybookSource(file, await readFile(`${root}${file}`, 'utf8'), actions);
  if (!result.playbook || result.problems.length > 0) throw new Error(`${file}: ${JSON.stringify(result.problems)}`);
  return result.playbook;
}

/**
 * The parameters each step of `run` received: its `with:` block rendered for the run's alert and parsed by the
 * action's schema, exactly as the run processor does before it calls the action (live) or records the step as
 * would-run (dry run). Live step records keep no parameters, so a live run's are derived this way.
 */
export function renderedParams(playbook: Playbook, run: DemoRunDecision): { name: string; params: unknown }[] {
  const steps = run.phase === 'failback' ? (playbook.resolved?.steps ?? []) : playbook.steps;
  const context = {
    labels: run.alert.labels,
    annotations: run.alert.annotations,
    alert: { fingerprint: run.alert.fingerprint, status: run.alert.status, startsAt: run.alert.startsAt },
    run: { id: run.runId, playbook: run.playbook, target: run.target ?? '' },
  };
  return steps.map((step) => {
    const action = actions.get(step.action);
    if (!action) throw new Error(`unknown action ${step.action}`);
    return { name: step.name, params: action.schema.parse(renderValue(step.with, context, action.escapesFor?.(step.with))) };
  });
}
