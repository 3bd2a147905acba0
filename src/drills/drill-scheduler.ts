import type { Logger } from 'pino';
import type { AlertIntake } from '../alerts/alert-intake.js';
import { createRateLimited } from '../logging/rate-limited.js';
import { drillPlaybookName, type Drill } from './drill.js';
import { drillPayload } from './drill-alert.js';
import type { DrillBlockerCheck } from './drill-blockers.js';
import { parseDrillSchedule, type DrillOccurrence, type DrillSchedule } from './drill-schedule.js';
import type { DrillState } from './drill-state.js';
import { openAlertsFromAlertmanager, type AlertmanagerView, type OpenAlerts } from './open-alerts.js';

/** Runs the drills whose window is open; called by the reconcile loop's leader once per pass. */
export interface DrillScheduler {
  /** `alertmanager`: what the alert sweep read this pass; absent without an Alertmanager (the firing notes tell then). */
  sweep(pass: { alertmanager: AlertmanagerView | undefined }): Promise<void>;
}

/** The reason recorded for an occurrence no pass looked at (no leader, remediator down, the loop off). */
export const unseenReason = 'no reconcile pass ran during its window';

/** How long after its window an occurrence's state is kept, besides the two intervals it may still be looked at. */
const keepMarginMs = 60_000;
/** A refusal is logged again at most this often while its reason stays the same. */
const refusalLogMs = 60_000;

/**
 * Creates the scheduler. Each pass, per drill: the latest occurrence whose window is open starts (once: its state
 * key and the run's deterministic job id make that so across processes and restarts) unless a blocker stands in
 * its way, which is noted and logged; the occurrence before it, its window closed, is ended as missed when it never
 * started, with the reason it was last refused for. Occurrences whose window closed before the drill was first
 * scheduled are not counted.
 */
export function createDrillScheduler(deps: {
  drills: readonly Drill[];
  state: DrillState;
  blockers: DrillBlockerCheck;
  intake: Pick<AlertIntake, 'accept'>;
  /** The open alerts when no Alertmanager is read (the intake's firing notes). */
  alertsFromNotes: () => Promise<OpenAlerts>;
  logger: Logger;
  now?: () => number;
}): DrillScheduler {
  const now = deps.now ?? Date.now;
  const schedules = new Map<string, DrillSchedule>();
  for (const drill of deps.drills) {
    const parsed = parseDrillSchedule(drill.schedule, drill.timezone, drill.windowMs);
    // Validated at load: a schedule that does not parse here is remediator's bug.
    if (!parsed.success) throw new Error(`drill ${drill.name}: ${parsed.message}`);
    schedules.set(drill.name, parsed.schedule);
  }
  const refusals = new Map<string, { reason: string; log: ReturnType<typeof createRateLimited> }>();
  // What this process already knows, so that a pass costs no round trip for it: when each drill was first
  // scheduled (it never changes), and the last closed occurrence it settled per drill.
  const firstScheduled = new Map<string, number>();
  const settled = new Map<string, number>();

  const logRefusal = (drill: Drill, occurrence: DrillOccurrence, reason: string) => {
    const known = refusals.get(drill.name);
    const entry = known?.reason === reason ? known : { reason, log: createRateLimited(refusalLogMs, now) };
    refusals.set(drill.name, entry);
    entry.log((suppressed) => {
      deps.logger.warn(
        {
          drill: drill.name,
          cluster: drill.cluster,
          scheduledAt: new Date(occurrence.at).toISOString(),
          windowEnd: new Date(occurrence.windowEnd).toISOString(),
          reason,
          suppressed,
        },
        `drill refused: ${reason}`,
      );
    });
  };

  /** Keeps an occurrence's state while it can still be looked at: until two occurrences after it, plus its window. */
  const keepMs = (drill: Drill, schedule: DrillSchedule, at: number, current: number) =>
    schedule.after(at, 2) + drill.windowMs + keepMarginMs - current;

  const startIfClear = async (drill: Drill, schedule: DrillSchedule, occurrence: DrillOccurrence, alerts: () => Promise<OpenAlerts>) => {
    const known = await deps.state.occurrence(drill.name, occurrence.at);
    if (known?.state === 'started' || known?.state === 'missed') return;
    const current = now();
    const reason = await deps.blockers(drill, alerts);
    if (reason !== undefined) {
      await deps.state.noteBlocked(drill.name, occurrence.at, reason, keepMs(drill, schedule, occurrence.at, current));
      logRefusal(drill, occurrence, reason);
      return;
    }
    const playbook = drillPlaybookName(drill);
    const result = await deps.intake.accept(drillPayload(drill, occurrence.at), {
      source: 'drill',
      manual: { playbook, by: `drill:${drill.name}` },
    });
    const [run] = result.runs;
    if (!run) {
      const why = `the built-in playbook ${playbook} did not match the drill's alert`;
      await deps.state.noteBlocked(drill.name, occurrence.at, why, keepMs(drill, schedule, occurrence.at, current));
      logRefusal(drill, occurrence, why);
      return;
    }
    await deps.state.markStarted(drill.name, occurrence.at, run.jobId, keepMs(drill, schedule, occurrence.at, current));
    refusals.delete(drill.name);
    deps.logger.info(
      { drill: drill.name, cluster: drill.cluster, kind: drill.kind, jobId: run.jobId, scheduledAt: new Date(occurrence.at).toISOString() },
      run.added ? 'drill started' : 'drill run already enqueued (another process, or before a restart)',
    );
  };

  const settleMissed = async (drill: Drill, schedule: DrillSchedule, occurrence: DrillOccurrence, firstScheduledAt: number) => {
    // The drill was not configured (or not yet seen) during that window: nothing was missed.
    if (occurrence.windowEnd <= firstScheduledAt) return;
    const current = now();
    if (settled.get(drill.name) === occurrence.at) return;
    const missed = await deps.state.markMissed(
      drill.name,
      occurrence.at,
      unseenReason,
      current,
      keepMs(drill, schedule, occurrence.at, current),
    );
    settled.set(drill.name, occurrence.at);
    if (!missed) return;
    const view = await deps.state.occurrence(drill.name, occurrence.at);
    deps.logger.warn(
      {
        drill: drill.name,
        cluster: drill.cluster,
        scheduledAt: new Date(occurrence.at).toISOString(),
        reason: view?.state === 'missed' ? view.reason : unseenReason,
      },
      'drill missed: it could not start within its window',
    );
  };

  return {
    async sweep(pass) {
      let alerts: Promise<OpenAlerts> | undefined;
      // Read once per pass, and only when a drill is due.
      const openAlerts = () =>
        (alerts ??= pass.alertmanager ? Promise.resolve(openAlertsFromAlertmanager(pass.alertmanager)) : deps.alertsFromNotes());
      for (const drill of deps.drills) {
        const schedule = schedules.get(drill.name);
        if (!schedule) continue;
        const current = now();
        const firstScheduledAt = firstScheduled.get(drill.name) ?? (await deps.state.noteScheduled(drill.name, current));
        firstScheduled.set(drill.name, firstScheduledAt);
        const latest = schedule.latest(current);
        if (!latest) continue;
        const open = current < latest.windowEnd;
        if (open) await startIfClear(drill, schedule, latest, openAlerts);
        const closed = open ? schedule.before(latest.at) : latest;
        if (closed) await settleMissed(drill, schedule, closed, firstScheduledAt);
      }
    },
  };
}
