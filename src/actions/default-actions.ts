import { createTransport } from 'nodemailer';
import { createPrometheusClient } from '../promql/prometheus-client.js';
import { createActionRegistry, type ActionRegistry } from './action-registry.js';
import { createEmailAction } from './email-action.js';
import { createExecAction } from './exec-action.js';
import { createHttpAction } from './http-action.js';
import { createLogAction } from './log-action.js';
import { createPromqlWaitAction } from './promql-wait-action.js';

/** The built-in actions, with their clients built from the given settings. */
export function createDefaultActions(options: {
  smtpUrl: string | undefined;
  smtpFrom: string;
  prometheusUrl: string | undefined;
  /** PATH for programs run by `exec` (their only inherited variable). */
  path: string | undefined;
}): ActionRegistry {
  const transport = options.smtpUrl === undefined ? undefined : createTransport(options.smtpUrl);
  const prometheus = options.prometheusUrl === undefined ? undefined : createPrometheusClient({ baseUrl: options.prometheusUrl });
  return createActionRegistry([
    createExecAction({ baseEnv: { PATH: options.path } }),
    createHttpAction(),
    createEmailAction({ transport, from: options.smtpFrom }),
    createPromqlWaitAction({ prometheus }),
    createLogAction(),
  ]);
}
