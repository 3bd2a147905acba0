import type { RunData } from '../core/run-data.js';
import type { RunOutcome } from '../runner/run-outcome.js';
import type { RunEndListener } from '../runner/run-end-listener.js';
import type { Drill } from './drill.js';
import type { DrillRunEnd, DrillState } from './drill-state.js';

/**
 * The drill's RTO from its run: the write pause the switchover step reports (`writePauseMs`: from the moment writes
 * stopped on the old primary to the first write the new primary accepted). Undefined when no step reports one.
 */
export function drillRtoMs(data: RunData): number | undefined {
  for (const step of data.steps) {
    const pause = (step.output as { writePauseMs?: unknown } | undefined)?.writePauseMs;
    if (step.status === 'succeeded' && typeof pause === 'number' && Number.isFinite(pause) && pause >= 0) return pause;
  }
  return undefined;
}

/** How a drill's run ended, for its record: a run that did not act (skipped, cancelled, dry run) is `skipped`. */
export function drillRunEnd(id: string, data: RunData, outcome: RunOutcome, at: number): DrillRunEnd {
  if (outcome === 'succeeded') {
    const rtoMs = drillRtoMs(data);
    return { runId: id, outcome, at, ...(rtoMs === undefined ? {} : { rtoMs }) };
  }
  if (outcome === 'failed') {
    const error = data.steps.find((step) => step.status === 'failed')?.error;
    return { runId: id, outcome, at, ...(error === undefined ? {} : { reason: `${error.code}: ${error.message}` }) };
  }
  const reason = data.skip?.reason ?? (outcome === 'dry_run' ? 'dry run: nothing was changed' : 'cancelled');
  return { runId: id, outcome: 'skipped', at, reason };
}

/** Records the end of every run a configured drill started (source `drill`, its name in the `drill` label). */
export function createDrillRunRecorder(deps: { drills: readonly Drill[]; state: DrillState; now?: () => number }): RunEndListener {
  const now = deps.now ?? Date.now;
  const names = new Set(deps.drills.map((drill) => drill.name));
  return async ({ id, data, outcome }) => {
    const name = data.alert.labels.drill;
    if (data.source !== 'drill' || name === undefined || !names.has(name)) return;
    await deps.state.recordRun(name, drillRunEnd(id, data, outcome, now()));
  };
}
