import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ActionRegistry } from '../actions/action-registry.js';
import { AppError, errorCodes, errorMessage, isAppError, type ErrorCode } from '../errors/index.js';
import type { RemediatorMetrics } from '../metrics/create-metrics.js';
import type { FailbackState } from '../queue/failback-state.js';
import type { TargetLease, TargetLocks } from '../queue/target-lock.js';
import type { TargetHolds } from '../queue/target-holds.js';
import { runDataSchema, type RunData, type StepRecord } from '../runs/run-data.js';
import type { Playbook, PlaybookStep } from './playbook.js';
import { renderValue, type TemplateContext } from './template.js';

/** What a finished run returns (stored as the job's return value). */
export interface RunResult {
  playbook: string;
  target: string;
  phase: 'remediate' | 'failback';
  /** A failback whose alert fired again: nothing ran. */
  cancelled?: boolean;
  /** Why nothing ran (a hold on the target). */
  skipped?: string;
  dryRun: boolean;
  steps: { name: string; status: StepRecord['status'] }[];
}

type RunOutcome = 'succeeded' | 'failed' | 'dry_run' | 'cancelled' | 'skipped';

/** Dependencies of the run processor. */
export interface RunProcessorDeps {
  playbooks: ReadonlyMap<string, Playbook>;
  actions: ActionRegistry;
  logger: Logger;
  metrics: RemediatorMetrics;
  /** Per-target leases; without them runs on one target may overlap (single-process tests only). */
  locks?: TargetLocks;
  /** How often a run waiting for its target's lease is tried again. */
  lockRetryMs?: number;
  /** Lease renewal period; a third of the lease TTL. */
  lockRenewMs?: number;
  /** Lets a failback skip itself when its alert fired again. */
  failback?: FailbackState;
  /** A remediation run on a held target is skipped with the hold's reason. */
  holds?: TargetHolds;
  now?: () => Date;
}

const permanentCodes = new Set<string>([errorCodes.STEP_PERMANENT, errorCodes.STEP_PARAMS_INVALID, errorCodes.TEMPLATE_UNKNOWN_REFERENCE, errorCodes.PLAYBOOK_NOT_FOUND]);

/**
 * Creates the BullMQ processor that runs a playbook for one job. Each step's outcome is checkpointed into the job
 * data before the next step starts, so a retried or crash-recovered job skips steps that already succeeded.
 * A step that was running when the process died runs again: actions are idempotent by contract.
 */
export function createRunProcessor(deps: RunProcessorDeps) {
  const now = deps.now ?? (() => new Date());

  return async function processRun(job: Job, token?: string, workerSignal?: AbortSignal): Promise<RunResult> {
    const parsed = runDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`job data is not a run: ${z.prettifyError(parsed.error)}`);
    const data: RunData = parsed.data;
    const logger = deps.logger.child({ jobId: job.id, playbook: data.playbook, fingerprint: data.alert.fingerprint });
    const playbook = deps.playbooks.get(data.playbook);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);

    const finish = (outcome: RunOutcome) => {
      deps.metrics.runs.inc({ playbook: data.playbook, outcome });
    };
    const fail = (error: unknown): never => {
      const permanent = error instanceof UnrecoverableError || (isAppError(error) && permanentCodes.has(error.code));
      if (permanent || lastAttempt) finish('failed');
      if (error instanceof UnrecoverableError) throw error;
      // Message carries the code so the queue UI and /api/runs show why without digging into logs.
      const message = isAppError(error) ? `${error.code}: ${error.message}` : errorMessage(error);
      if (permanent) throw new UnrecoverableError(message);
      throw new AppError(isAppError(error) ? error.code : errorCodes.STEP_FAILED, message, { cause: error });
    };

    if (!playbook) return fail(new AppError(errorCodes.PLAYBOOK_NOT_FOUND, `playbook "${data.playbook}" is not loaded in this process`));
    if (data.target === null) return fail(new AppError(errorCodes.TEMPLATE_UNKNOWN_REFERENCE, `target: ${data.targetError ?? 'could not be rendered'}`));
    const target = data.target;
    const steps = data.phase === 'failback' ? playbook.resolved?.steps : playbook.steps;
    if (!steps) return fail(new AppError(errorCodes.PLAYBOOK_NOT_FOUND, `playbook "${playbook.name}" has no resolved: section (any more)`));
    if (data.phase === 'failback') {
      const newest = await deps.failback?.newestFiring(playbook.name, data.alert.fingerprint);
      if (newest !== undefined && newest > Date.parse(data.alert.startsAt)) {
        logger.info({ newestFiring: new Date(newest).toISOString() }, 'failback skipped: the alert fired again after it resolved');
        finish('cancelled');
        return { playbook: playbook.name, target, phase: data.phase, cancelled: true, dryRun: data.dryRun, steps: [] };
      }
    }

    // Holds stop remediation, not failback: fencing a returning old primary is never held back.
    const hold = data.phase === 'remediate' ? await deps.holds?.get(target) : undefined;
    if (hold) {
      const reason = `target ${target} is held until ${hold.until}: ${hold.reason}`;
      logger.warn({ hold }, 'run skipped: target held');
      finish('skipped');
      return { playbook: playbook.name, target, phase: data.phase, skipped: reason, dryRun: data.dryRun, steps: [] };
    }

    let lease: TargetLease | undefined;
    if (deps.locks) {
      lease = await deps.locks.acquire(target, job.id ?? '');
      if (!lease) {
        // Another run acts on this target: wait in the delayed set, not in a worker slot.
        logger.debug({ target }, 'target busy, run waits');
        await job.moveToDelayed(Date.now() + (deps.lockRetryMs ?? 1000), token);
        throw new DelayedError();
      }
    }
    const leaseLost = new AbortController();
    const renewal = lease && setInterval(() => {
      void lease.renew().then(
        (held) => { if (!held) leaseLost.abort(new AppError(errorCodes.LOCK_LOST, `lost the lease on ${target}`)); },
        (error: unknown) => { logger.warn({ err: error }, 'could not renew the target lease'); },
      );
    }, deps.lockRenewMs ?? 10_000);
    const signal = workerSignal ? AbortSignal.any([workerSignal, leaseLost.signal]) : leaseLost.signal;
    try {
      return await runSteps(job, data, playbook.name, steps, target, lease, signal, logger, fail, finish);
    } finally {
      clearInterval(renewal);
      await lease?.release().catch((error: unknown) => { logger.warn({ err: error }, 'could not release the target lease'); });
    }
  };

  async function runSteps(
    job: Job,
    data: RunData,
    playbookName: string,
    steps: readonly PlaybookStep[],
    target: string,
    lease: TargetLease | undefined,
    signal: AbortSignal,
    logger: Logger,
    fail: (error: unknown) => never,
    finish: (outcome: RunOutcome) => void,
  ): Promise<RunResult> {
    if (data.firstStartedAt === undefined) {
      data.firstStartedAt = now().toISOString();
      await job.updateData(data);
    }
    logger.info({ attempt: job.attemptsMade + 1, target, fencingToken: lease?.fencingToken }, 'run started');

    const context: TemplateContext = {
      labels: data.alert.labels,
      annotations: data.alert.annotations,
      alert: data.alert,
      run: { id: job.id ?? '', playbook: playbookName, target },
    };

    for (const [index, step] of steps.entries()) {
      const previous = data.steps[index];
      if (previous?.name === step.name && (previous.status === 'succeeded' || previous.status === 'would-run')) {
        logger.debug({ step: step.name }, 'step already done, skipping');
        continue;
      }
      // Fencing: a run whose lease lapsed (a long pause, a partition) must not act next to the new holder.
      if (lease && !(await lease.isHeld())) return fail(new AppError(errorCodes.LOCK_LOST, `lost the lease on ${target} before step ${step.name}`));
      const record: StepRecord = {
        name: step.name,
        action: step.action,
        status: 'running',
        attempts: (previous?.name === step.name ? previous.attempts : 0) + 1,
        startedAt: now().toISOString(),
      };
      data.steps[index] = record;
      data.steps.length = index + 1;
      await job.updateData(data);
      try {
        const outcome = await runStep(step, context, data.dryRun, logger.child({ step: step.name, action: step.action }), job.id ?? '', signal, lease?.fencingToken);
        Object.assign(record, outcome);
      } catch (error) {
        record.status = 'failed';
        record.error = { code: isAppError(error) ? error.code : errorCodes.STEP_FAILED, message: errorMessage(error) };
        logger.warn({ step: step.name, err: error }, 'step failed');
      }
      record.finishedAt = now().toISOString();
      record.durationMs = Date.parse(record.finishedAt) - Date.parse(record.startedAt);
      deps.metrics.stepDuration.observe({ action: step.action, outcome: record.status }, record.durationMs / 1000);
      await job.updateData(data);
      if (record.status === 'failed') {
        // The step's own code travels to failedReason; fail() decides from it whether a retry can help.
        const code = (record.error?.code ?? errorCodes.STEP_FAILED) as ErrorCode;
        return fail(new AppError(code, `step ${step.name}: ${record.error?.message ?? 'failed'}`));
      }
    }
    finish(data.dryRun ? 'dry_run' : 'succeeded');
    logger.info('run finished');
    return { playbook: playbookName, target, phase: data.phase, dryRun: data.dryRun, steps: data.steps.map(({ name, status }) => ({ name, status })) };
  }

  async function runStep(
    step: PlaybookStep,
    context: TemplateContext,
    dryRun: boolean,
    logger: Logger,
    runId: string,
    runSignal: AbortSignal,
    fencingToken: number | undefined,
  ): Promise<Partial<StepRecord>> {
    const action = deps.actions.get(step.action);
    if (!action) throw new AppError(errorCodes.STEP_PERMANENT, `unknown action ${step.action}`);
    const alert = { fingerprint: context.alert.fingerprint, startsAt: context.alert.startsAt, labels: context.labels };
    const rendered = renderValue(step.with, context, action.escapes);
    const params = action.schema.safeParse(rendered);
    if (!params.success) throw new AppError(errorCodes.STEP_PARAMS_INVALID, `invalid parameters after templating: ${z.prettifyError(params.error)}`);
    if (dryRun) {
      logger.info({ params: params.data }, 'dry run: step would run');
      return { status: 'would-run', params: params.data };
    }
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort(new AppError(errorCodes.STEP_TIMEOUT, `timed out after ${step.timeoutMs} ms`));
    }, step.timeoutMs);
    const signal = AbortSignal.any([controller.signal, runSignal]);
    // An action that ignores its signal must not hold the run forever: the race ends the step on abort anyway.
    const aborted = new Promise<never>((_resolve, reject) => {
      signal.addEventListener('abort', () => { reject(signal.reason as Error); }, { once: true });
    });
    try {
      const output = await Promise.race([action.run(params.data, { logger, signal, runId, alert, ...(fencingToken === undefined ? {} : { fencingToken }) }), aborted]);
      logger.info('step succeeded');
      return { status: 'succeeded', output };
    } finally {
      clearTimeout(timer);
    }
  }
}
