import { z } from 'zod';
import { defineAction } from '../core/action.js';

const logSchema = z.strictObject({
  message: z.string().min(1),
  level: z.enum(['info', 'warn', 'error']).default('info'),
});

/** Records a message in the run and the log. */
export function createLogAction() {
  return defineAction({
    name: 'log',
    description: 'Record a message in the run and the log.',
    schema: logSchema,
    defaultTimeoutMs: 5000,
    run(params, { logger }) {
      logger[params.level]({ step: 'log' }, params.message);
      return Promise.resolve({ message: params.message });
    },
  });
}
