import { z } from 'zod';
import { isAppError, errorCodes } from '../core/errors/index.js';
import { parsePromql } from '../core/promql/parse-promql.js';
import { isTruthy, type PrometheusClient } from '../promql/prometheus-client.js';
import { durationSchema } from '../core/duration.js';
import { sleep } from '../util/sleep.js';
import { defineAction, permanentError, transientError } from '../core/action.js';

const promqlWaitSchema = z.strictObject({
  query: z.string().superRefine((query, ctx) => {
    for (const error of parsePromql(query).errors) ctx.addIssue({ code: 'custom', message: `PromQL ${error.message}` });
  }),
  /** `true`: wait until the query returns a non-empty result (or non-zero scalar); `false`: until it returns none. */
  expect: z.enum(['true', 'false']).default('true'),
  interval: durationSchema.default(2000),
  /** How long to wait for the condition; keep it below the step's `timeout` (default 10m). */
  within: durationSchema.default(120_000),
});

/** Polls Prometheus until a query returns a result (or stops returning one), or the time is up. */
export function createPromqlWaitAction(options: { prometheus: PrometheusClient | undefined }) {
  return defineAction({
    name: 'promql.wait',
    description: 'Wait until a PromQL query returns a result (or none).',
    schema: promqlWaitSchema,
    defaultTimeoutMs: 10 * 60_000,
    escapesFor: () => ({ query: 'promql' }),
    async run(params, { signal, logger }) {
      const prometheus = options.prometheus;
      if (!prometheus) throw permanentError('promql.wait needs PROMETHEUS_URL to be configured');
      const deadline = Date.now() + params.within;
      const wanted = params.expect === 'true';
      let polls = 0;
      let lastProblem: string;
      for (;;) {
        polls++;
        try {
          const data = await prometheus.query(params.query, signal);
          if (isTruthy(data) === wanted) return { polls, result: data.result };
          lastProblem = wanted ? 'the query returned no result' : 'the query still returned a result';
        } catch (error) {
          if (signal.aborted) throw error;
          // A query Prometheus rejects will be rejected again; an unreachable Prometheus may come back.
          if (isAppError(error, errorCodes.PROMETHEUS_BAD_RESPONSE)) throw permanentError((error as Error).message, error);
          lastProblem = (error as Error).message;
          logger.warn({ err: error }, 'promql.wait: query failed, polling on');
        }
        if (Date.now() + params.interval > deadline) {
          throw transientError(`condition not met within ${params.within} ms after ${polls} polls: ${lastProblem}`);
        }
        await sleep(params.interval, signal);
      }
    },
  });
}
