import { DelayedError } from 'bullmq';
import type { Playbook, PlaybookStep } from '../core/playbook.js';
import { cutLabelReferences, type RunData, type SkipRecord, type StepRecord } from '../core/run-data.js';
import type { TemplateContext } from '../core/template/template.js';
import type { GateRun } from './gates/gate.js';
import type { RunOutcome } from './run-outcome.js';

/** What a finished run returns (stored as the job's return value). */
export interface RunResult {
  playbook: string;
  target: string;
  phase: 'remediate' | 'failback';
  /** A failback whose alert fired again: nothing ran. */
  cancelled?: boolean;
  /** Why nothing ran: a hold, a guard, a budget, an approval decision. */
  skipped?: string;
  skipKind?: SkipRecord['kind'];
  dryRun: boolean;
  steps: { name: string; status: StepRecord['status'] }[];
}

/** One attempt of one run: its job's data, playbook and target, and what it may do to its job. */
export interface RunContext extends GateRun {
  /** The steps of the run's phase: the playbook's steps, or its resolved: steps for a failback. */
  readonly steps: readonly PlaybookStep[];
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Moves the job to the delayed set until `untilMs` (not a failed attempt). */
  delay(untilMs: number): Promise<void>;
  /** Counts the run's outcome in the metrics. */
  finish(outcome: RunOutcome, skipKind?: SkipRecord['kind']): void;
  /** Ends the attempt with `error`: a permanent one, or the last attempt, fails the run for good. */
  fail(error: unknown): never;
  /** Whether the run has ended in this attempt (finished, or failed for good): no attempt follows. */
  ended(): boolean;
}

/** The values a run's templates see: labels, annotations, the alert, the run; a label cut on intake is refused. */
export function runTemplateContext(data: RunData, runId: string, playbook: Playbook, target: string): TemplateContext {
  return {
    labels: data.alert.labels,
    annotations: data.alert.annotations,
    alert: data.alert,
    run: { id: runId, playbook: playbook.name, target },
    ...(data.alert.truncated === undefined ? {} : { cut: cutLabelReferences(data.alert.truncated) }),
  };
}

/** Parks the run in the delayed set until `untilMs` and ends this attempt without spending one. */
export async function park(run: RunContext, untilMs: number, why: string, afterMove?: () => Promise<void>): Promise<never> {
  run.logger.debug({ until: new Date(untilMs).toISOString() }, `run waits: ${why}`);
  await run.delay(untilMs);
  await afterMove?.();
  // BullMQ treats DelayedError as "moved to delayed", not a failed attempt.
  throw new DelayedError();
}

/** The result of a run that ended after its gates without acting: skipped or cancelled. */
export function resultOf(
  run: RunContext,
  extra: Pick<RunResult, 'cancelled' | 'skipped' | 'skipKind'>,
  steps: readonly StepRecord[],
): RunResult {
  return {
    playbook: run.playbook.name,
    target: run.target,
    phase: run.data.phase,
    ...extra,
    dryRun: run.data.dryRun,
    steps: steps.map(({ name, status }) => ({ name, status })),
  };
}
