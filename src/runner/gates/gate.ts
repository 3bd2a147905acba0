import type { Logger } from 'pino';
import type { Playbook } from '../../core/playbook.js';
import type { RunData, SkipRecord } from '../../core/run-data.js';
import type { TemplateContext } from '../../core/template/template.js';
import type { TargetLease } from '../../state/target-lock.js';

/** What a run holds while it acts: taken by the slot and lease gates, renewed, and released when the run ends. */
export interface RunHoldings {
  slot: boolean;
  lease: TargetLease | undefined;
  /** Aborted with REM_LOCK_LOST when a renewal finds the lease taken over: the running step stops. */
  readonly leaseLost: AbortController;
}

/** A run as its gates see it: what they read, what they record into its data, and what they hold once passed. */
export interface GateRun {
  /** The job id: owner of the lease and the slot, key of the approval decision. */
  readonly id: string;
  readonly data: RunData;
  readonly playbook: Playbook;
  readonly target: string;
  readonly template: TemplateContext;
  readonly logger: Logger;
  /** The worker's signal, aborted at shutdown. */
  readonly workerSignal: AbortSignal | undefined;
  readonly held: RunHoldings;
  /** Writes `data` into the job: the checkpoint every later attempt starts from. */
  checkpoint(): Promise<void>;
  /** Moves the job from the delayed set back to waiting at once. */
  promote(): Promise<void>;
}

/** What one gate decided about a run. */
export type GateVerdict =
  /** Go on; `release` runs when the run ends, however it ends (in the reverse order the gates passed). */
  | { kind: 'pass'; release?: () => Promise<void> }
  /** Do not act: the skip is recorded, stands on every later attempt, and the skipped: steps run. */
  | { kind: 'skip'; skip: SkipRecord; log?: GateLog }
  /** Not now: the job waits in the delayed set until `untilMs`; `afterMove` runs once it is there. */
  | { kind: 'wait'; untilMs: number; why: string; afterMove?: () => Promise<void> }
  /** Nothing to do any more (a failback whose alert fired again): the run ends without a step. */
  | { kind: 'cancel'; log: GateLog };

/** A line the runner logs when it acts on a verdict (not when a gate checked alongside another one lost). */
export interface GateLog {
  fields: Record<string, unknown>;
  message: string;
}

/**
 * One stage of the path from a picked-up job to its first step. Checked on every attempt, in pipeline order. `R` is
 * the run it needs: a gate that reads nothing beyond GateRun serves any run.
 */
export interface Gate<R extends GateRun = GateRun> {
  readonly name: string;
  check(run: R): Promise<GateVerdict>;
}

/** The verdict of a gate that lets the run through and holds nothing. */
export const pass: GateVerdict = Object.freeze({ kind: 'pass' });
