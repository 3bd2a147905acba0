import type { Logger } from 'pino';
import type { z } from 'zod';
import { AppError, errorCodes } from './errors/index.js';
import type { TemplateEscape } from './template/template.js';
import type { StepProcess, StepSkipKind } from './run-data.js';

/** What a step's action gets besides its parameters. */
export interface ActionContext {
  /** Child logger carrying the run's job id, playbook and fingerprint. */
  logger: Logger;
  /** Aborted on the step's timeout or on shutdown; actions stop promptly when it fires. */
  signal: AbortSignal;
  runId: string;
  /** The run's fencing token for its target: higher than any earlier holder's. */
  fencingToken?: number;
  /** The alert the run is for (failover actions use startsAt as the failure time). */
  alert?: { fingerprint: string; startsAt: string; labels: Readonly<Record<string, string>> };
  /**
   * Checkpoints the process group the step started, before the action waits on it, so that a later attempt (after
   * a crash) ends it before starting the step again. Absent outside a run.
   */
  recordProcess?: (process: StepProcess) => Promise<void>;
}

/** What a step records about its result (kept small: it is stored in the job). */
export type StepOutput = Record<string, unknown>;

/** One kind of step. Each action lives in its own file and validates its `with:` block with `schema`. */
export interface ActionDefinition<TSchema extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  readonly schema: TSchema;
  readonly defaultTimeoutMs: number;
  /**
   * How template values are escaped per top-level field of `with:` (raw where not listed), given the unrendered
   * block: a field's format may depend on another field, as an http string body's on its Content-Type header.
   */
  escapesFor?(raw: Readonly<Record<string, unknown>>): Readonly<Record<string, TemplateEscape>>;
  /** Load-time checks on the raw (unrendered) `with:` block, beyond the schema; each problem as path + message. */
  checkRaw?(raw: Readonly<Record<string, unknown>>): { path: (string | number)[]; message: string }[];
  /** Does the work. Must be idempotent: a crash between success and checkpoint runs it again. */
  run(params: z.output<TSchema>, context: ActionContext): Promise<StepOutput>;
}

/** Defines an action with its schema's types inferred. */
export function defineAction<TSchema extends z.ZodType>(definition: ActionDefinition<TSchema>): ActionDefinition {
  return definition;
}

/** A failure that retrying cannot fix (bad input, a refused request): the job fails without retry. */
export function permanentError(message: string, cause?: unknown): AppError {
  return new AppError(errorCodes.STEP_PERMANENT, message, { cause });
}

/** A failure that may pass (a timeout, a refused connection): the job is retried with backoff. */
export function transientError(message: string, cause?: unknown): AppError {
  return new AppError(errorCodes.STEP_FAILED, message, { cause });
}

/**
 * Thrown by a step that found acting would be wrong (a primary that is not confirmed dead): the run ends `skipped`
 * with `kind` and `reason`, the step is recorded `skipped` with `details` (what it observed) as its output, and the
 * playbook's `skipped:` steps tell a human. Not a failure: nothing is retried.
 */
export class RunSkip extends AppError {
  readonly kind: StepSkipKind;
  readonly details: StepOutput;

  constructor(kind: StepSkipKind, reason: string, details: StepOutput) {
    super(errorCodes.RUN_SKIPPED, reason);
    this.kind = kind;
    this.details = details;
  }
}

/** Ends the run as skipped (see RunSkip). */
export function skipRun(kind: StepSkipKind, reason: string, details: StepOutput = {}): RunSkip {
  return new RunSkip(kind, reason, details);
}

/** Keeps the last `limit` bytes of captured output, marking the cut; `alreadyCut` counts bytes the caller dropped before. */
export function truncateOutput(text: string, limit: number, alreadyCut = 0): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= limit && alreadyCut === 0) return text;
  const kept = Math.min(bytes.length, limit);
  return `[…${alreadyCut + bytes.length - kept} bytes cut]${bytes.subarray(bytes.length - kept).toString()}`;
}
