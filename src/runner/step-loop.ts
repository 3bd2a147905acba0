import type { Logger } from 'pino';
import { RunSkip } from '../core/action.js';
import type { ActionRegistry } from '../core/action-registry.js';
import { AppError, errorCodes, errorMessage, isAppError, type ErrorCode } from '../core/errors/index.js';
import type { PlaybookStep } from '../core/playbook.js';
import type { SkipRecord, StepRecord } from '../core/run-data.js';
import type { TemplateContext } from '../core/template/template.js';
import type { RemediatorMetrics } from '../metrics/create-metrics.js';
import { maskStrings } from '../util/mask-strings.js';
import { endProcessGroup } from '../util/process-group.js';
import { park, type RunContext } from './run-context.js';
import { runStep } from './run-step.js';

/** The abort reason the service gives running steps when its drain period ran out at shutdown. */
export const handBackReason = 'remediator is shutting down: run handed back to the queue';

/** One pass over a list of steps: which steps, where their checkpoints go, and how the phase treats them. */
export interface StepLoopOptions {
  steps: readonly PlaybookStep[];
  /** Where the step records go, inside the run's data (`steps`, `skipSteps`, `approval.notifySteps`). */
  records: StepRecord[];
  template: TemplateContext;
  /** The run's signal (shutdown, a lost lease); without one each step is bound by its own timeout alone. */
  signal: AbortSignal | undefined;
  /** Before each step: wait while paused, fail when the lease was lost; and give each step the fencing token. */
  fenced: boolean;
  /** A failed step fails the run (`fail-run`), or is thrown for the caller to handle (`throw`). */
  onFailure: 'fail-run' | 'throw';
  /** A step failed by the shutdown's abort hands the run back to the queue, without spending an attempt. */
  handBack: boolean;
  /** Drop the records after the step that starts: the ones an earlier version of the playbook left. */
  truncate: boolean;
  /**
   * Values left out of the recorded parameters (the approval links): whoever can read a run must not be able to
   * decide with what its notification carried.
   */
  masked?: readonly string[];
}

/** The acting phases (remediate, failback): fenced, a failure fails the run, shutdown hands it back. */
export const actingSteps = {
  fenced: true,
  onFailure: 'fail-run',
  handBack: true,
  truncate: true,
} as const satisfies Partial<StepLoopOptions>;
/** Notifications (skipped:, approval notify:): run on their own timeouts, a failure goes to the caller. */
export const notifySteps = {
  signal: undefined,
  fenced: false,
  onFailure: 'throw',
  handBack: false,
  truncate: false,
} as const satisfies Partial<StepLoopOptions>;

/** The step loop's dependencies. */
export interface StepLoopDeps {
  actions: ActionRegistry;
  metrics: Pick<RemediatorMetrics, 'stepDuration'>;
  /** The kill switch, read before each fenced step. */
  isPaused: (() => Promise<boolean>) | undefined;
  waitRetryMs: number;
  now: () => Date;
}

/**
 * Runs a list of steps of a run. Resolves with the skip a step decided (skipRun: the steps after it do not run),
 * or undefined when every step ran.
 */
export type StepLoop = (run: RunContext, options: StepLoopOptions) => Promise<SkipRecord | undefined>;

/**
 * Creates the one checkpointed step loop. Each step's outcome is written into the job before the next starts, so
 * a retried or crash-recovered run skips the steps that already succeeded. A step that was running when its
 * process died runs again (actions are idempotent by contract), after the process it started is ended.
 */
export function createStepLoop(deps: StepLoopDeps): StepLoop {
  const { now } = deps;
  return async function runSteps(run, options) {
    const { logger, data } = run;
    const failed = (error: unknown): never => {
      if (options.onFailure === 'fail-run') return run.fail(error);
      throw error;
    };
    for (const [index, step] of options.steps.entries()) {
      const previous = options.records[index]?.name === step.name ? options.records[index] : undefined;
      if (previous?.status === 'succeeded' || previous?.status === 'would-run') {
        logger.debug({ step: step.name }, 'step already done, skipping');
        continue;
      }
      const lease = run.held.lease;
      if (options.fenced) {
        // Both read in one round trip. The kill switch: the run hands its worker slot and lease back and resumes at this
        // step after resume. Fencing: a run whose lease lapsed (a long pause, a partition) must not act next to the new holder.
        const [paused, held] = await Promise.all([deps.isPaused?.(), lease ? lease.isHeld() : true]);
        if (paused) return park(run, Date.now() + deps.waitRetryMs, `remediation is paused before step ${step.name}`);
        if (!held) return failed(new AppError(errorCodes.LOCK_LOST, `lost the lease on ${run.target} before step ${step.name}`));
      }
      const stepLogger = logger.child({ step: step.name, action: step.action });
      // An earlier attempt of this step whose process outlived its worker (killed, or handed back while its
      // program was still in its SIGTERM grace) must be gone before the step starts again: never two copies at once.
      let warnings: string[];
      try {
        warnings = previous ? await endEarlierAttempt(previous, stepLogger) : [];
      } catch (error) {
        return failed(error);
      }
      const record: StepRecord = {
        name: step.name,
        action: step.action,
        status: 'running',
        attempts: (previous?.attempts ?? 0) + 1,
        startedAt: now().toISOString(),
        ...(warnings.length > 0 ? { warnings } : {}),
      };
      options.records[index] = record;
      if (options.truncate) options.records.length = index + 1;
      await run.checkpoint();
      const signal = options.signal ?? AbortSignal.timeout(step.timeoutMs);
      let skip: RunSkip | undefined;
      try {
        Object.assign(
          record,
          await runStep(deps.actions, step, {
            template: options.template,
            dryRun: data.dryRun,
            logger: stepLogger,
            runId: run.id,
            signal,
            fencingToken: options.fenced ? lease?.fencingToken : undefined,
            recordProcess: async (process) => {
              record.process = process;
              await run.checkpoint();
            },
          }),
        );
        if (options.masked?.length && record.params !== undefined)
          record.params = maskStrings(record.params, options.masked, '[approval link]');
      } catch (error) {
        // Only an acting step decides a skip; one in a notification is a failed notification.
        if (error instanceof RunSkip && options.onFailure === 'fail-run') {
          record.status = 'skipped';
          record.output = error.details;
          skip = error;
          logger.warn({ step: step.name, kind: error.kind, reason: error.message }, 'step decided to skip the run');
        } else {
          record.status = 'failed';
          record.error = { code: isAppError(error) ? error.code : errorCodes.STEP_FAILED, message: errorMessage(error) };
          logger.warn({ step: step.name, err: error }, 'step failed');
        }
      }
      record.finishedAt = now().toISOString();
      record.durationMs = Date.parse(record.finishedAt) - Date.parse(record.startedAt);
      deps.metrics.stepDuration.observe({ action: step.action, outcome: record.status }, record.durationMs / 1000);
      await run.checkpoint();
      if (skip) return { kind: skip.kind, reason: skip.message, at: record.finishedAt };
      if (record.status !== 'failed') continue;
      // Shutdown interrupted the step: the run goes back to the queue for another worker, without spending an attempt.
      if (options.handBack && signal.aborted && signal.reason === handBackReason) return park(run, Date.now(), handBackReason);
      // The step's own code travels to failedReason; fail() decides from it whether a retry can help.
      const code = (record.error?.code ?? errorCodes.STEP_FAILED) as ErrorCode;
      return failed(new AppError(code, `step ${step.name}: ${record.error?.message ?? 'failed'}`));
    }
    return undefined;
  };
}

/**
 * Ends the process group an earlier attempt of the step recorded, when it is still running on this host; throws
 * (a transient failure: the run is retried) when it cannot be ended. Returns the warnings for the new record.
 */
async function endEarlierAttempt(previous: StepRecord, logger: Logger): Promise<string[]> {
  const recorded = previous.process;
  if (recorded === undefined) return [];
  const ended = await endProcessGroup(recorded);
  switch (ended.outcome) {
    case 'gone':
      return [];
    case 'ended':
      logger.warn({ process: recorded, members: ended.members }, 'ended the processes an earlier attempt of this step left running');
      return [];
    case 'elsewhere': {
      // Another machine's process cannot be signalled; refusing to go on would stop remediation for good.
      const warning = `attempt ${previous.attempts} ran this step on ${recorded.host} (pid ${recorded.pid}); it may still be running there`;
      logger.warn({ process: recorded }, `${warning}: starting the step again here`);
      return [warning];
    }
    case 'stuck':
      throw new AppError(
        errorCodes.STEP_FAILED,
        `${ended.members} process(es) of attempt ${previous.attempts} (group ${recorded.pgid}) survive SIGKILL; not starting the step again next to them`,
      );
  }
}
