import type { Logger } from 'pino';
import { z } from 'zod';
import type { ActionRegistry } from '../core/action-registry.js';
import { AppError, errorCodes } from '../core/errors/index.js';
import type { PlaybookStep } from '../core/playbook.js';
import type { StepProcess, StepRecord } from '../core/run-data.js';
import { renderValue, type TemplateContext } from '../core/template/template.js';

/** One step's call: what its templates see and what its action gets besides the parameters. */
export interface StepCall {
  template: TemplateContext;
  dryRun: boolean;
  logger: Logger;
  runId: string;
  /** The run's signal; the step adds its own timeout. */
  signal: AbortSignal;
  fencingToken: number | undefined;
  recordProcess: (process: StepProcess) => Promise<void>;
}

/**
 * Renders a step's `with:`, validates it against its action's schema, and runs the action (a dry run stops after
 * validating). Throws the step's failure; resolves to what its record keeps.
 */
export async function runStep(actions: ActionRegistry, step: PlaybookStep, call: StepCall): Promise<Partial<StepRecord>> {
  const { template, logger } = call;
  const action = actions.get(step.action);
  if (!action) throw new AppError(errorCodes.STEP_PERMANENT, `unknown action ${step.action}`);
  const alert = { fingerprint: template.alert.fingerprint, startsAt: template.alert.startsAt, labels: template.labels };
  const rendered = renderValue(step.with, template, action.escapesFor?.(step.with));
  const params = action.schema.safeParse(rendered);
  if (!params.success)
    throw new AppError(errorCodes.STEP_PARAMS_INVALID, `invalid parameters after templating: ${z.prettifyError(params.error)}`);
  if (call.dryRun) {
    logger.info({ params: params.data }, 'dry run: step would run');
    return { status: 'would-run', params: params.data };
  }
  // An aborted signal does not fire again: a step started under one would never see its abort, and an action that
  // ignores its signal would then hang past its own timeout. Such a step does not start.
  if (call.signal.aborted) throw call.signal.reason as Error;
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new AppError(errorCodes.STEP_TIMEOUT, `timed out after ${step.timeoutMs} ms`));
  }, step.timeoutMs);
  const signal = AbortSignal.any([controller.signal, call.signal]);
  // An action that ignores its signal must not hold the run forever: the race ends the step on abort anyway.
  const aborted = new Promise<never>((_resolve, reject) => {
    signal.addEventListener(
      'abort',
      () => {
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
  try {
    const context = {
      logger,
      signal,
      runId: call.runId,
      alert,
      recordProcess: call.recordProcess,
      ...(call.fencingToken === undefined ? {} : { fencingToken: call.fencingToken }),
    };
    const output = await Promise.race([action.run(params.data, context), aborted]);
    logger.info('step succeeded');
    return { status: 'succeeded', output, params: params.data };
  } finally {
    clearTimeout(timer);
  }
}
