import type { SkipRecord } from '../core/run-data.js';
import { resultOf, type RunContext, type RunResult } from './run-context.js';
import { actingSteps, notifySteps, type StepLoop } from './step-loop.js';

/**
 * The acting phase, once every gate passed: the playbook's steps (or its resolved: steps for a failback), fenced
 * by the lease, stopped by the shutdown or a lost lease.
 */
export async function actOnTarget(run: RunContext, loop: StepLoop, now: () => Date): Promise<RunResult> {
  const { data, logger } = run;
  if (data.firstStartedAt === undefined) {
    data.firstStartedAt = now().toISOString();
    await run.checkpoint();
  }
  logger.info({ attempt: run.attempt, target: run.target, fencingToken: run.held.lease?.fencingToken }, 'run started');
  const signal = run.workerSignal ? AbortSignal.any([run.workerSignal, run.held.leaseLost.signal]) : run.held.leaseLost.signal;
  const skip = await loop(run, { ...actingSteps, steps: run.steps, records: data.steps, template: run.template, signal });
  if (skip) return finishSkipped(run, skip, loop);
  data.finishedAt = now().toISOString();
  await run.checkpoint();
  run.finish(data.dryRun ? 'dry_run' : 'succeeded');
  logger.info('run finished');
  return resultOf(run, {}, data.steps);
}

/** Records the skip, runs the playbook's skipped: notification steps (checkpointed), and ends the run. */
export async function finishSkipped(run: RunContext, skip: SkipRecord, loop: StepLoop): Promise<RunResult> {
  const { data } = run;
  if (!data.skip) {
    data.skip = skip;
    await run.checkpoint();
    run.logger.warn({ skip }, 'run skipped');
  }
  const template = { ...run.template, run: { ...run.template.run, skipReason: skip.reason } };
  try {
    await loop(run, { ...notifySteps, steps: run.playbook.skipped ?? [], records: data.skipSteps, template });
  } catch (error) {
    return run.fail(error);
  }
  run.finish('skipped', skip.kind);
  return resultOf(run, { skipped: skip.reason, skipKind: skip.kind }, data.skipSteps);
}
