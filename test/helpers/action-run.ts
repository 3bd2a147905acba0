import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { ActionDefinition } from '../../src/core/action.js';
import { isAppError, type ErrorCode } from '../../src/core/errors/index.js';

const silent = pino({ level: 'silent' });

/**
 * Parses `withBlock` with the action's schema, as the runner does, then runs the action. Each call is its own
 * run unless `runId` is given (a retry of the same run passes the same id).
 */
export async function runAction<T>(
  action: ActionDefinition,
  withBlock: Record<string, unknown>,
  signal = new AbortController().signal,
  runId = `${action.name}-${randomUUID()}`,
): Promise<T> {
  const output = await action.run(action.schema.parse(withBlock), { logger: silent, signal, runId });
  return output as unknown as T;
}

/** An assert.rejects predicate: an AppError with `code` whose message matches every pattern. */
export function appError(code: ErrorCode, ...patterns: RegExp[]) {
  return (error: unknown): boolean => {
    assert.ok(isAppError(error, code), `expected ${code}, got ${String(error)}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}
