import type { PrometheusClient } from '../../promql/prometheus-client.js';
import { evaluateGuards } from './evaluate-guards.js';
import { pass, type Gate } from './gate.js';

/** The playbook's guards, evaluated against Prometheus and recorded in the run; one that fails skips it. */
export function createGuardsGate(deps: { prometheus: PrometheusClient | undefined; now: () => Date }): Gate {
  const { now } = deps;
  return {
    name: 'guards',
    async check(run) {
      const { guards } = run.playbook;
      if (guards.length === 0) return pass;
      const verdict = await evaluateGuards(guards, run.template, deps.prometheus, {
        ...(run.workerSignal ? { signal: run.workerSignal } : {}),
        now,
      });
      run.data.guards = verdict.records;
      if (!verdict.pass) {
        return {
          kind: 'skip',
          skip: { kind: 'guard', reason: verdict.reason ?? 'a guard failed', at: now().toISOString() },
          log: { fields: { guards: verdict.records }, message: 'run skipped: a guard failed' },
        };
      }
      run.logger.info({ guards: verdict.records.map(({ name, status }) => ({ name, status })) }, 'guards passed');
      return pass;
    },
  };
}
