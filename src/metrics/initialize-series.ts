import { skipRecordSchema } from '../core/run-data.js';
import type { Playbook } from '../core/playbook.js';
import type { RemediatorMetrics } from './create-metrics.js';

const runOutcomes = ['succeeded', 'failed', 'dry_run', 'cancelled', 'skipped'] as const;
const skipReasons = skipRecordSchema.shape.kind.options;

/**
 * Every series a playbook can produce exists from start-up at 0: otherwise a counter's first increment is its first
 * sample, increase() over it reads 0, and "how many runs were skipped" shows No data instead of 0.
 */
export function initializeSeries(metrics: RemediatorMetrics, playbooks: readonly Playbook[]): void {
  for (const playbook of playbooks) {
    const name = playbook.name;
    metrics.runsEnqueued.inc({ playbook: name }, 0);
    for (const outcome of runOutcomes) metrics.runs.inc({ playbook: name, outcome }, 0);
    for (const reason of skipReasons) metrics.runsSkipped.inc({ playbook: name, reason }, 0);
    if (playbook.rtoMs !== undefined) {
      metrics.rtoObjective.set({ playbook: name }, playbook.rtoMs / 1000);
      metrics.rtoBreaches.inc({ playbook: name }, 0);
    }
  }
}
