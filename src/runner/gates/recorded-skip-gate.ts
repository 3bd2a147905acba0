import { pass, type Gate } from './gate.js';

/**
 * A recorded decision not to act stands on every later attempt: a retry only finishes the skip's notification
 * steps, whatever a hold, a guard or a budget would say now.
 */
export function createRecordedSkipGate(): Gate {
  return {
    name: 'recorded-skip',
    check(run) {
      return Promise.resolve(run.data.skip ? { kind: 'skip', skip: run.data.skip } : pass);
    },
  };
}
