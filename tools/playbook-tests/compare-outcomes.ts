import { isDeepStrictEqual } from 'node:util';
import type { SimAlert, SimRun, SimStep } from '../simulate/sim-types.js';
import type { RunExpectation, StepExpectation } from './test-file-schema.js';

/** One field that is not what the test expects. */
export interface Difference {
  /** Where, inside the alert's runs: `playbook redis-primary-failover`, then the field (`guards.a-replica-is-up`). */
  playbook: string | undefined;
  field: string;
  expected: string;
  got: string;
}

const show = (value: unknown): string => (value === undefined ? '(nothing)' : typeof value === 'string' ? value : JSON.stringify(value));

/**
 * Whether `got` has everything `expected` has: objects by the keys written (others ignored), arrays element by element
 * with the same length, anything else equal. Returns the first path that differs, or undefined.
 */
export function partialMismatch(expected: unknown, got: unknown, path = ''): { path: string; expected: unknown; got: unknown } | undefined {
  if (Array.isArray(expected)) {
    if (!Array.isArray(got) || got.length !== expected.length) return { path, expected, got };
    for (const [index, item] of expected.entries()) {
      const found = partialMismatch(item, got[index], `${path}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (got === null || typeof got !== 'object' || Array.isArray(got)) return { path, expected, got };
    for (const [key, value] of Object.entries(expected)) {
      const found = partialMismatch(value, (got as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`);
      if (found) return found;
    }
    return undefined;
  }
  return isDeepStrictEqual(expected, got) ? undefined : { path, expected, got };
}

function compareSteps(playbook: string, field: string, expected: readonly StepExpectation[], got: readonly SimStep[]): Difference[] {
  const names = (steps: readonly { name: string }[]) => steps.map((step) => step.name).join(', ');
  if (expected.length !== got.length || expected.some((step, index) => step.name !== got[index]?.name))
    return [{ playbook, field, expected: `[${names(expected)}]`, got: `[${names(got)}]` }];
  return expected.flatMap((step, index): Difference[] => {
    const actual = got[index] as SimStep;
    const at = `${field}.${step.name}`;
    const differences: Difference[] = [];
    if (step.action !== undefined && step.action !== actual.action)
      differences.push({ playbook, field: `${at}.action`, expected: step.action, got: actual.action });
    if (step.status !== undefined && step.status !== actual.status)
      differences.push({ playbook, field: `${at}.status`, expected: step.status, got: actual.status });
    if (step.error !== undefined && !(actual.error?.message ?? '').includes(step.error))
      differences.push({ playbook, field: `${at}.error`, expected: `…${step.error}…`, got: show(actual.error?.message) });
    if (step.params !== undefined) {
      const mismatch = partialMismatch(step.params, actual.params);
      if (mismatch)
        differences.push({
          playbook,
          field: `${at}.params${mismatch.path === '' ? '' : `.${mismatch.path}`}`,
          expected: show(mismatch.expected),
          got: show(mismatch.got),
        });
    }
    return differences;
  });
}

/** Why a run ended as it did, in a few words: shown next to an outcome that differs. */
function outcomeDetail(run: SimRun): string {
  if (run.skip) return `${run.outcome} (${run.skip.kind}: ${run.skip.reason})`;
  if (run.error !== undefined) return `${run.outcome} (${run.error})`;
  return run.outcome;
}

function compareRun(expected: RunExpectation, run: SimRun): Difference[] {
  const playbook = expected.playbook;
  const differences: Difference[] = [];
  const differ = (field: string, want: unknown, got: unknown) => {
    differences.push({ playbook, field, expected: show(want), got: show(got) });
  };
  if (expected.outcome !== run.outcome) differ('outcome', expected.outcome, outcomeDetail(run));
  if (expected.phase !== undefined && expected.phase !== run.phase) differ('phase', expected.phase, run.phase);
  if (expected.target !== undefined && expected.target !== run.target) differ('target', expected.target, run.target);
  if (expected.skip !== undefined) {
    if (expected.skip.kind !== run.skip?.kind) differ('skip.kind', expected.skip.kind, run.skip?.kind);
    if (expected.skip.reason !== undefined && !(run.skip?.reason ?? '').includes(expected.skip.reason))
      differ('skip.reason', `…${expected.skip.reason}…`, run.skip?.reason);
  }
  for (const [name, status] of Object.entries(expected.guards ?? {})) {
    const guard = run.guards?.find((candidate) => candidate.name === name);
    const got =
      guard === undefined
        ? undefined
        : `${guard.status}${guard.result === undefined ? '' : ` (${guard.query} returned ${show(guard.result)})`}`;
    if (guard?.status !== status) differ(`guards.${name}`, status, got ?? '(not evaluated)');
  }
  if (expected.approval !== undefined && expected.approval !== run.approval?.state)
    differ('approval', expected.approval, run.approval?.state);
  if (expected.error !== undefined && !(run.error ?? '').includes(expected.error)) differ('error', `…${expected.error}…`, run.error);
  if (expected.steps !== undefined) differences.push(...compareSteps(playbook, 'steps', expected.steps, run.steps));
  if (expected.skip_steps !== undefined) differences.push(...compareSteps(playbook, 'skip_steps', expected.skip_steps, run.skipSteps));
  return differences;
}

/** Compares what an alert made with what the test expects: exactly the playbooks named, each run as described. */
export function compareAlert(expected: readonly RunExpectation[], alert: SimAlert): Difference[] {
  const differences: Difference[] = [];
  for (const want of expected) {
    const run = alert.runs.find((candidate) => candidate.playbook === want.playbook);
    if (run) differences.push(...compareRun(want, run));
    else
      differences.push({
        playbook: want.playbook,
        field: 'match',
        expected: 'a run',
        got: 'no run (the playbook did not match, or is not loaded)',
      });
  }
  for (const run of alert.runs)
    if (!expected.some((want) => want.playbook === run.playbook))
      differences.push({ playbook: run.playbook, field: 'match', expected: 'no run', got: `a run: ${outcomeDetail(run)}` });
  return differences;
}
