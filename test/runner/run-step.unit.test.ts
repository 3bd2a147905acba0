import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { z } from 'zod';
import { defineAction } from '../../src/core/action.js';
import { createActionRegistry } from '../../src/core/action-registry.js';
import { runStep } from '../../src/runner/run-step.js';
import { fakeRun, step } from './fake-run.js';

/** An action that ignores its signal and never ends: only the runner can end its step. */
function stubborn() {
  const started: string[] = [];
  const action = defineAction({
    name: 'record',
    description: 'never ends, ignores its signal',
    schema: z.object({ name: z.string() }),
    defaultTimeoutMs: 1000,
    run(params) {
      started.push(params.name);
      return new Promise(() => undefined);
    },
  });
  return { started, actions: createActionRegistry([action]) };
}

/** Fails the test instead of hanging when `promise` does not settle within `ms`. */
function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`did not settle within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, late]).finally(() => {
    clearTimeout(timer);
  });
}

describe('runStep', () => {
  // An already-aborted signal never fires its abort event again: a listener added afterwards waits forever, so a
  // step started under it would hang with its action, past its own timeout.
  test('a step whose run was already aborted (shutdown, lost lease) is not started and fails with the abort reason', async () => {
    const { started, actions } = stubborn();
    const run = fakeRun();
    const controller = new AbortController();
    controller.abort(new Error('remediator is shutting down'));
    const call = {
      template: run.template,
      dryRun: false,
      logger: pino({ level: 'silent' }),
      runId: 'run-1',
      signal: controller.signal,
      fencingToken: undefined,
      recordProcess: () => Promise.resolve(),
    };
    await assert.rejects(
      settlesWithin(runStep(actions, step('promote', 'record', { timeoutMs: 60_000 }), call), 5000),
      /remediator is shutting down/,
    );
    assert.deepEqual(started, [], 'the action was never called');
  });
});
