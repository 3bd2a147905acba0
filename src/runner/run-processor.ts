import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ActionRegistry } from '../core/action-registry.js';
import { AppError, errorCodes, errorMessage, isAppError, type ErrorCode } from '../core/errors/index.js';
import type { RemediatorMetrics } from '../metrics/create-metrics.js';
import type { FailbackState } from '../state/failback-state.js';
import type { TargetLease, TargetLocks } from '../state/target-lock.js';
import type { TargetHolds } from '../state/target-holds.js';
import type { RunApprovals } from '../state/run-approvals.js';
import type { GlobalBudget, RunBudgets } from '../state/run-budgets.js';
import type { PrometheusClient } from '../promql/prometheus-client.js';
import { cutLabelReferences, runDataSchema, type RunData, type SkipRecord, type StepProcess, type StepRecord } from '../core/run-data.js';
import { endProcessGroup } from '../util/process-group.js';
import { evaluateGuards } from './evaluate-guards.js';
import { rtoBreached, runDurations } from '../runs/run-durations.js';
import type { Playbook, PlaybookStep } from '../core/playbook.js';
import { renderValue, type TemplateContext } from '../core/template/template.js';

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
  /** Where guards are evaluated; without it a guard errors (and skips the run unless onError: proceed). */
  prometheus?: PrometheusClient;
  /** Cooldowns, run budgets, blast radius and concurrency slots; without it no budget is enforced. */
  budgets?: RunBudgets;
  global?: GlobalBudget & { concurrencyExceeded: 'wait' | 'skip' };
  /** Decisions on runs that need approval. */
  approvals?: RunApprovals;
  /** The kill switch: while it answers true, no step starts and runs wait. */
  isPaused?: () => Promise<boolean>;
  /** How often a run waiting for the kill switch, a concurrency slot or its target's lease is tried again. */
  waitRetryMs?: number;
  now?: () => Date;
}


/** The abort reason the service gives running steps when its drain period ran out at shutdown. */
export const handBackReason = 'remediator is shutting down: run handed back to the queue';

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

    const finish = (outcome: RunOutcome, skipKind?: SkipRecord['kind']) => {
      deps.metrics.runs.inc({ playbook: data.playbook, outcome });
      if (skipKind !== undefined) deps.metrics.runsSkipped.inc({ playbook: data.playbook, reason: skipKind });
      // A skipped run (even one whose notification failed for good) acted on nothing: no recovery, no RTO breach.
      if (data.phase === 'remediate' && data.skip === undefined && (outcome === 'succeeded' || outcome === 'failed' || outcome === 'dry_run')) observeTimes(data, outcome);
    };
    const park = async (untilMs: number, why: string): Promise<never> => {
      logger.debug({ until: new Date(untilMs).toISOString() }, `run waits: ${why}`);
      await job.moveToDelayed(untilMs, token);
      // BullMQ treats DelayedError as "moved to delayed", not a failed attempt.
      throw new DelayedError();
    };
    const retryMs = deps.waitRetryMs ?? 1000;
    // A concurrency slot outlives three missed renewals, like the target lease.
    const slotTtlMs = Math.max(deps.lockRenewMs ?? 10_000, 1000) * 3;
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

    const context: TemplateContext = {
      labels: data.alert.labels,
      annotations: data.alert.annotations,
      alert: data.alert,
      run: { id: job.id ?? '', playbook: playbook.name, target },
      ...(data.alert.truncated === undefined ? {} : { cut: cutLabelReferences(data.alert.truncated) }),
    };
    const runId = job.id ?? '';
    const skipped = (skip: SkipRecord) => finishSkipped(job, data, playbook, skip, context, logger, fail, finish);
    // A recorded decision not to act stands on every later attempt: only its notifications are finished.
    if (data.skip) return skipped(data.skip);
    // The kill switch and a hold on the target are read together: one round trip to Redis before the run starts, not two.
    // Holds, approval and guards gate remediation, not failback: fencing a returning old primary is never held back.
    const [paused, hold] = await Promise.all([deps.isPaused?.(), data.phase === 'remediate' ? deps.holds?.get(target) : undefined]);
    if (paused) return park(Date.now() + retryMs, 'remediation is paused');

    if (data.phase === 'remediate') {
      if (hold) {
        logger.warn({ hold }, 'run skipped: target held');
        return skipped({ kind: 'hold', reason: `target ${target} is held until ${hold.until}: ${hold.reason}`, at: now().toISOString() });
      }
      if (playbook.approval) {
        const skip = await awaitApproval(job, data, playbook, context, logger, token);
        if (skip) return skipped(skip);
      }
    }

    const global = deps.global;
    let slot = false;
    if (deps.budgets && global && global.maxConcurrentRuns > 0) {
      slot = await deps.budgets.acquireSlot(runId, global.maxConcurrentRuns, slotTtlMs);
      if (!slot) {
        const reason = `concurrency: ${global.maxConcurrentRuns} runs are already acting`;
        // A run that already acted waits for a slot even in skip mode: skipping it would leave half a failover done.
        if (global.concurrencyExceeded === 'skip' && data.phase === 'remediate' && data.admittedAt === undefined) return skipped({ kind: 'concurrency', reason, at: now().toISOString() });
        return park(Date.now() + retryMs, reason);
      }
    }
    let lease: TargetLease | undefined;
    let renewal: NodeJS.Timeout | undefined;
    try {
      if (deps.locks) {
        lease = await deps.locks.acquire(target, runId);
        // Another run acts on this target: wait in the delayed set, not in a worker slot.
        if (!lease) return await park(Date.now() + (deps.lockRetryMs ?? retryMs), `target ${target} is busy`);
      }
      // Renewed from the moment they are held: slow guards must not let the lease or the slot lapse under the run.
      const heldLease = lease;
      const leaseLost = new AbortController();
      renewal = setInterval(() => {
        if (slot) {
          void deps.budgets?.acquireSlot(runId, global?.maxConcurrentRuns ?? 1, slotTtlMs).then(
            (held) => { if (!held) logger.warn('lost the concurrency slot (it lapsed and was taken); the run goes on'); },
            (error: unknown) => { logger.warn({ err: error }, 'could not renew the concurrency slot'); },
          );
        }
        if (!heldLease) return;
        void heldLease.renew().then(
          (held) => { if (!held) leaseLost.abort(new AppError(errorCodes.LOCK_LOST, `lost the lease on ${target}`)); },
          (error: unknown) => { logger.warn({ err: error }, 'could not renew the target lease'); },
        );
      }, deps.lockRenewMs ?? 10_000);
      // Guards and budgets are decided once, under the lease, before the first step acts; a retry of a run that
      // already acted finishes it rather than leaving a half-done failover because a guard changed its mind.
      if (data.phase === 'remediate' && data.admittedAt === undefined) {
        const skip = await admit(runId, data, playbook, target, context, logger, workerSignal);
        // Admitted: the first step starts now, so one checkpoint records both (runSteps then has none to write).
        if (!skip) data.firstStartedAt ??= now().toISOString();
        await job.updateData(data);
        if (skip) return await skipped(skip);
      }
      const signal = workerSignal ? AbortSignal.any([workerSignal, leaseLost.signal]) : leaseLost.signal;
      try {
        return await runSteps(job, data, playbook.name, steps, target, lease, signal, logger, fail, finish, park, context);
      } finally {
        if (data.admittedAt !== undefined) {
          await deps.budgets?.finished({ playbook: playbook.name, target, budget: playbook.budget, dryRun: data.dryRun }).catch((error: unknown) => {
            logger.warn({ err: error }, 'could not start the cooldown');
          });
        }
      }
    } finally {
      clearInterval(renewal);
      await lease?.release().catch((error: unknown) => { logger.warn({ err: error }, 'could not release the target lease'); });
      if (slot) await deps.budgets?.releaseSlot(runId).catch((error: unknown) => { logger.warn({ err: error }, 'could not release the concurrency slot'); });
    }
  };

  /** Feeds the run histograms and the RTO breach counter from a finished remediation run. */
  function observeTimes(data: RunData, outcome: 'succeeded' | 'failed' | 'dry_run'): void {
    const ended = { ...data, finishedAt: data.finishedAt ?? now().toISOString() };
    const durations = runDurations(ended, outcome === 'succeeded');
    const labels = { playbook: data.playbook, outcome };
    if (durations.detectionSeconds !== undefined) deps.metrics.runDetection.observe(labels, durations.detectionSeconds);
    if (durations.dispatchSeconds !== undefined) deps.metrics.runDispatch.observe(labels, durations.dispatchSeconds);
    if (durations.actionSeconds !== undefined) deps.metrics.runAction.observe(labels, durations.actionSeconds);
    if (durations.recoverySeconds !== undefined) deps.metrics.runRecovery.observe(labels, durations.recoverySeconds);
    // A dry run recovers nothing, so it cannot breach.
    if (outcome !== 'dry_run' && rtoBreached(data.rtoMs, durations, outcome)) deps.metrics.rtoBreaches.inc({ playbook: data.playbook });
  }

  /** Guards, then budgets; records both in `data`. Returns the skip when the run must not act. */
  async function admit(
    runId: string,
    data: RunData,
    playbook: Playbook,
    target: string,
    context: TemplateContext,
    logger: Logger,
    signal: AbortSignal | undefined,
  ): Promise<SkipRecord | undefined> {
    if (playbook.guards.length > 0) {
      const verdict = await evaluateGuards(playbook.guards, context, deps.prometheus, { ...(signal ? { signal } : {}), now });
      data.guards = verdict.records;
      if (!verdict.pass) {
        logger.warn({ guards: verdict.records }, 'run skipped: a guard failed');
        return { kind: 'guard', reason: verdict.reason ?? 'a guard failed', at: now().toISOString() };
      }
      logger.info({ guards: verdict.records.map(({ name, status }) => ({ name, status })) }, 'guards passed');
    }
    if (deps.budgets) {
      const global = deps.global ?? { maxConcurrentRuns: 0, maxTargets: 0, targetsWindowMs: 0 };
      const decision = await deps.budgets.admit({ runId, playbook: playbook.name, target, budget: playbook.budget, global, dryRun: data.dryRun });
      if (!decision.admitted) {
        logger.warn({ budget: decision.kind }, `run skipped: ${decision.reason}`);
        return { kind: decision.kind, reason: decision.reason, at: now().toISOString() };
      }
    }
    data.admittedAt = now().toISOString();
    return undefined;
  }

  /**
   * Approval: the first attempt records the request, notifies, and parks the job until the deadline; an API or
   * queue-UI decision promotes it early. Returns the skip when the run was rejected or timed out with abort.
   */
  async function awaitApproval(
    job: Job,
    data: RunData,
    playbook: Playbook,
    context: TemplateContext,
    logger: Logger,
    token: string | undefined,
  ): Promise<SkipRecord | undefined> {
    const approval = playbook.approval;
    if (!approval) return undefined;
    const runId = job.id ?? '';
    if (!data.approval) {
      const requestedAt = now();
      data.approval = {
        state: 'pending',
        requestedAt: requestedAt.toISOString(),
        deadline: new Date(requestedAt.getTime() + approval.timeoutMs).toISOString(),
        onTimeout: approval.onTimeout,
        notifySteps: [],
      };
      await job.updateData(data);
      logger.info({ deadline: data.approval.deadline }, data.dryRun ? 'dry run: would wait for approval' : 'run waits for approval');
    }
    const record = data.approval;
    // A dry run makes the decision a live run would up to here, and does not wait for a person.
    if (data.dryRun || record.state !== 'pending') return decided();
    const decision = await deps.approvals?.get(runId);
    if (decision) {
      Object.assign(record, { state: decision.decision, by: decision.by, via: decision.via, decidedAt: decision.at, ...(decision.comment === undefined ? {} : { comment: decision.comment }) });
    } else if (now().getTime() >= Date.parse(record.deadline)) {
      Object.assign(record, { state: 'timed-out', decidedAt: now().toISOString() });
    } else {
      if (record.notifySteps.length < approval.notify.length) {
        // Telling someone is best effort: a failed notification must not fail the run nobody has decided on yet.
        await runSideSteps(job, data, approval.notify, record.notifySteps, context, logger).catch((error: unknown) => {
          logger.warn({ err: error }, 'an approval notification failed; the run still waits for a decision');
        });
      }
      await job.moveToDelayed(Date.parse(record.deadline), token);
      // A decision made while this attempt was active (the notification above takes seconds, and that is when people
      // click) could not wake a job that was not delayed yet: look again now that it is.
      if (await deps.approvals?.get(runId)) await job.promote().catch(() => undefined);
      logger.debug({ until: record.deadline }, 'run waits: waiting for approval');
      throw new DelayedError();
    }
    await job.updateData(data);
    logger.info({ approval: { state: record.state, by: record.by, via: record.via } }, 'approval decided');
    return decided();

    function decided(): SkipRecord | undefined {
      if (record.state === 'rejected') return { kind: 'approval-rejected', reason: `rejected by ${record.by ?? 'someone'} via ${record.via ?? 'api'}${record.comment ? `: ${record.comment}` : ''}`, at: now().toISOString() };
      if (record.state === 'timed-out' && record.onTimeout === 'abort') return { kind: 'approval-timeout', reason: `nobody approved by ${record.deadline} (onTimeout: abort)`, at: now().toISOString() };
      return undefined;
    }
  }

  /** Records the skip, runs the playbook's skipped: notification steps (checkpointed), and ends the run. */
  async function finishSkipped(
    job: Job,
    data: RunData,
    playbook: Playbook,
    skip: SkipRecord,
    context: TemplateContext,
    logger: Logger,
    fail: (error: unknown) => never,
    finish: (outcome: RunOutcome, skipKind?: SkipRecord['kind']) => void,
  ): Promise<RunResult> {
    if (!data.skip) {
      data.skip = skip;
      await job.updateData(data);
      logger.warn({ skip }, 'run skipped');
    }
    try {
      await runSideSteps(job, data, playbook.skipped ?? [], data.skipSteps, { ...context, run: { ...context.run, skipReason: skip.reason } }, logger);
    } catch (error) {
      return fail(error);
    }
    finish('skipped', skip.kind);
    return {
      playbook: playbook.name,
      target: data.target ?? '',
      phase: data.phase,
      skipped: skip.reason,
      skipKind: skip.kind,
      dryRun: data.dryRun,
      steps: data.skipSteps.map(({ name, status }) => ({ name, status })),
    };
  }

  /** Runs notification steps into `records`, checkpointing each; throws the first failure. */
  async function runSideSteps(job: Job, data: RunData, steps: readonly PlaybookStep[], records: StepRecord[], context: TemplateContext, logger: Logger): Promise<void> {
    for (const [index, step] of steps.entries()) {
      const previous = records[index];
      if (previous?.name === step.name && (previous.status === 'succeeded' || previous.status === 'would-run')) continue;
      const stepLogger = logger.child({ step: step.name, action: step.action });
      const warnings = previous?.name === step.name ? await endEarlierAttempt(previous, stepLogger) : [];
      const record: StepRecord = { name: step.name, action: step.action, status: 'running', attempts: (previous?.attempts ?? 0) + 1, startedAt: now().toISOString(), ...(warnings.length > 0 ? { warnings } : {}) };
      records[index] = record;
      await job.updateData(data);
      try {
        Object.assign(record, await runStep(step, context, data.dryRun, stepLogger, job.id ?? '', AbortSignal.timeout(step.timeoutMs), undefined, checkpointProcess(job, data, record)));
      } catch (error) {
        record.status = 'failed';
        record.error = { code: isAppError(error) ? error.code : errorCodes.STEP_FAILED, message: errorMessage(error) };
      }
      record.finishedAt = now().toISOString();
      record.durationMs = Date.parse(record.finishedAt) - Date.parse(record.startedAt);
      deps.metrics.stepDuration.observe({ action: step.action, outcome: record.status }, record.durationMs / 1000);
      await job.updateData(data);
      if (record.status === 'failed') throw new AppError((record.error?.code ?? errorCodes.STEP_FAILED) as ErrorCode, `step ${step.name}: ${record.error?.message ?? 'failed'}`);
    }
  }

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
    park: (untilMs: number, why: string) => Promise<never>,
    context: TemplateContext,
  ): Promise<RunResult> {
    if (data.firstStartedAt === undefined) {
      data.firstStartedAt = now().toISOString();
      await job.updateData(data);
    }
    logger.info({ attempt: job.attemptsMade + 1, target, fencingToken: lease?.fencingToken }, 'run started');

    for (const [index, step] of steps.entries()) {
      const previous = data.steps[index];
      if (previous?.name === step.name && (previous.status === 'succeeded' || previous.status === 'would-run')) {
        logger.debug({ step: step.name }, 'step already done, skipping');
        continue;
      }
      // Both read in one round trip. The kill switch: the run hands its worker slot and lease back and resumes at this
      // step after resume. Fencing: a run whose lease lapsed (a long pause, a partition) must not act next to the new holder.
      const [paused, held] = await Promise.all([deps.isPaused?.(), lease ? lease.isHeld() : true]);
      if (paused) return park(Date.now() + (deps.waitRetryMs ?? 1000), `remediation is paused before step ${step.name}`);
      if (!held) return fail(new AppError(errorCodes.LOCK_LOST, `lost the lease on ${target} before step ${step.name}`));
      const stepLogger = logger.child({ step: step.name, action: step.action });
      // An earlier attempt of this step whose process outlived its worker (killed, or handed back while its
      // program was still in its SIGTERM grace) must be gone before the step starts again: never two copies at once.
      let warnings: string[];
      try {
        warnings = previous?.name === step.name ? await endEarlierAttempt(previous, stepLogger) : [];
      } catch (error) {
        return fail(error);
      }
      const record: StepRecord = {
        name: step.name,
        action: step.action,
        status: 'running',
        attempts: (previous?.name === step.name ? previous.attempts : 0) + 1,
        startedAt: now().toISOString(),
        ...(warnings.length > 0 ? { warnings } : {}),
      };
      data.steps[index] = record;
      data.steps.length = index + 1;
      await job.updateData(data);
      try {
        const outcome = await runStep(step, context, data.dryRun, stepLogger, job.id ?? '', signal, lease?.fencingToken, checkpointProcess(job, data, record));
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
      // Shutdown interrupted the step: the run goes back to the queue for another worker, without spending an attempt.
      if (record.status === 'failed' && signal.aborted && signal.reason === handBackReason) return park(Date.now(), handBackReason);
      if (record.status === 'failed') {
        // The step's own code travels to failedReason; fail() decides from it whether a retry can help.
        const code = (record.error?.code ?? errorCodes.STEP_FAILED) as ErrorCode;
        return fail(new AppError(code, `step ${step.name}: ${record.error?.message ?? 'failed'}`));
      }
    }
    data.finishedAt = now().toISOString();
    await job.updateData(data);
    finish(data.dryRun ? 'dry_run' : 'succeeded');
    logger.info('run finished');
    return { playbook: playbookName, target, phase: data.phase, dryRun: data.dryRun, steps: data.steps.map(({ name, status }) => ({ name, status })) };
  }

  /** Checkpoints the process a step started into its record, in the job. */
  function checkpointProcess(job: Job, data: RunData, record: StepRecord): (process: StepProcess) => Promise<void> {
    return async (process) => {
      record.process = process;
      await job.updateData(data);
    };
  }

  /**
   * Ends the process group an earlier attempt of the step recorded, when it is still running on this host; throws
   * (a transient failure: the run is retried) when it cannot be ended. Returns the warnings for the new record.
   */
  async function endEarlierAttempt(previous: StepRecord, logger: Logger): Promise<string[]> {
    const recorded = previous.process;
    if (recorded === undefined || previous.status === 'succeeded' || previous.status === 'would-run') return [];
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
        throw new AppError(errorCodes.STEP_FAILED, `${ended.members} process(es) of attempt ${previous.attempts} (group ${recorded.pgid}) survive SIGKILL; not starting the step again next to them`);
    }
  }

  async function runStep(
    step: PlaybookStep,
    context: TemplateContext,
    dryRun: boolean,
    logger: Logger,
    runId: string,
    runSignal: AbortSignal,
    fencingToken: number | undefined,
    recordProcess: (process: StepProcess) => Promise<void>,
  ): Promise<Partial<StepRecord>> {
    const action = deps.actions.get(step.action);
    if (!action) throw new AppError(errorCodes.STEP_PERMANENT, `unknown action ${step.action}`);
    const alert = { fingerprint: context.alert.fingerprint, startsAt: context.alert.startsAt, labels: context.labels };
    const rendered = renderValue(step.with, context, action.escapesFor?.(step.with));
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
      const output = await Promise.race([action.run(params.data, { logger, signal, runId, alert, recordProcess, ...(fencingToken === undefined ? {} : { fencingToken }) }), aborted]);
      logger.info('step succeeded');
      return { status: 'succeeded', output, params: params.data };
    } finally {
      clearTimeout(timer);
    }
  }
}
