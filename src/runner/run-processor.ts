import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ApprovalLinkIssuer } from '../approvals/approval-link-token.js';
import type { ActionRegistry } from '../core/action-registry.js';
import { AppError, errorCodes } from '../core/errors/index.js';
import type { Playbook } from '../core/playbook.js';
import { runDataSchema, type RunData } from '../core/run-data.js';
import type { RemediatorMetrics } from '../metrics/create-metrics.js';
import { runTemplateContext, type RunContext, type RunResult } from './run-context.js';
import { runEndNotifier, type RunEndListener } from './run-end-listener.js';
import { createRunOutcome } from './run-outcome.js';
import { actOnTarget, finishSkipped } from './run-phases.js';
import { createRunPipelines, passGates, type PipelineDeps } from './run-pipeline.js';
import { createStepLoop, notifySteps } from './step-loop.js';

export type { RunResult } from './run-context.js';
export { handBackReason } from './step-loop.js';

/** Dependencies of the run processor: its gates' (PipelineDeps), and what the steps need. */
export interface RunProcessorDeps extends PipelineDeps {
  playbooks: ReadonlyMap<string, Playbook>;
  actions: ActionRegistry;
  logger: Logger;
  metrics: RemediatorMetrics;
  /** Told when a run ends for good (the drills' record). */
  onRunEnd?: RunEndListener;
  /** Issues the signed approve/reject links an approval's notify: steps refer to; absent: no links (APPROVAL_LINK_KEY unset). */
  approvalLinks?: ApprovalLinkIssuer;
  now?: () => Date;
}

/**
 * Creates the BullMQ processor that runs a playbook for one job: its gates (pause, hold, approval, concurrency slot,
 * lease, guards, budgets), then its steps, checkpointed one by one into the job data so that a retried or
 * crash-recovered job skips the steps that already succeeded.
 */
export function createRunProcessor(deps: RunProcessorDeps) {
  const now = deps.now ?? (() => new Date());
  const loop = createStepLoop({
    actions: deps.actions,
    metrics: deps.metrics,
    isPaused: deps.isPaused,
    waitRetryMs: deps.waitRetryMs ?? 1000,
    now,
  });
  const pipelines = createRunPipelines(
    deps,
    async (run, steps, records) => {
      // The links expire with the approval itself: a decision after the deadline no longer counts.
      const user = run.playbook.approval?.linkUser;
      const deadline = run.data.approval?.deadline;
      const approval =
        deps.approvalLinks && user !== undefined && deadline !== undefined
          ? deps.approvalLinks({ runId: run.id, user, expiresAtMs: Date.parse(deadline) })
          : undefined;
      await loop(run, {
        ...notifySteps,
        steps,
        records,
        ...(approval
          ? { template: { ...run.template, approval }, masked: [approval.approveUrl, approval.rejectUrl] }
          : { template: run.template }),
      });
    },
    now,
  );

  return async function processRun(job: Job, token?: string, workerSignal?: AbortSignal): Promise<RunResult> {
    const parsed = runDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`job data is not a run: ${z.prettifyError(parsed.error)}`);
    const data: RunData = parsed.data;
    const logger = deps.logger.child({ jobId: job.id, playbook: data.playbook, fingerprint: data.alert.fingerprint });
    const onEnd = deps.onRunEnd ? runEndNotifier(deps.onRunEnd, job.id ?? '', data, logger) : undefined;
    const { finish, fail, ended } = createRunOutcome(
      { metrics: deps.metrics, now, ...(onEnd ? { onEnd } : {}) },
      data,
      job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
    );

    const playbook = deps.playbooks.get(data.playbook);
    if (!playbook) return fail(new AppError(errorCodes.PLAYBOOK_NOT_FOUND, `playbook "${data.playbook}" is not loaded in this process`));
    if (data.target === null)
      return fail(new AppError(errorCodes.TEMPLATE_UNKNOWN_REFERENCE, `target: ${data.targetError ?? 'could not be rendered'}`));
    const steps = data.phase === 'failback' ? playbook.resolved?.steps : playbook.steps;
    if (!steps) return fail(new AppError(errorCodes.PLAYBOOK_NOT_FOUND, `playbook "${playbook.name}" has no resolved: section (any more)`));

    const id = job.id ?? '';
    const run: RunContext = {
      id,
      data,
      playbook,
      target: data.target,
      steps,
      template: runTemplateContext(data, id, playbook, data.target),
      logger,
      attempt: job.attemptsMade + 1,
      workerSignal,
      held: { slot: false, lease: undefined, leaseLost: new AbortController() },
      checkpoint: () => job.updateData(data),
      delay: (untilMs) => job.moveToDelayed(untilMs, token),
      promote: () => job.promote(),
      finish,
      fail,
      ended,
    };
    const gates = data.phase === 'failback' ? pipelines.failback : pipelines.remediate;
    return passGates(
      run,
      gates,
      (skip) => finishSkipped(run, skip, loop),
      () => actOnTarget(run, loop, now),
    );
  };
}
