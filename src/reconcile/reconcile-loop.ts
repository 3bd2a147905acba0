import type { Logger } from 'pino';
import { errorMessage } from '../core/errors/index.js';
import { createRateLimited } from '../logging/rate-limited.js';
import type { ReconcileMetrics, ReconcilePassOutcome } from '../metrics/reconcile-metrics.js';
import type { AlertmanagerReading, AlertSweep, AlertSweepResult } from './alert-sweep.js';
import type { ReconcileLease } from './reconcile-lease.js';
import type { RoleSweep } from './role-sweep.js';

/** What /readyz tells about the loop (never a reason to be "not ready": the webhook path works without it). */
export interface ReconcileStatus {
  leader: boolean;
  intervalMs: number;
  lastPassAt?: string;
  lastSuccessAt?: string;
  lastOutcome?: ReconcilePassOutcome;
  alertmanagers: AlertmanagerReading[];
  /** Why the last pass was not ok. */
  problems: string[];
}

/** Work the leader does in each pass after the sweeps (the drills), with what the alert sweep read. */
export type PassHook = (pass: { alerts: AlertSweepResult | undefined }) => Promise<void>;

/** The running loop. */
export interface ReconcileLoop {
  status(): ReconcileStatus;
  /** Stops after the pass in flight and gives the lease up, so another replica takes over at once. */
  stop(): Promise<void>;
}

/**
 * Starts the reconcile loop: every `intervalMs` it claims (or renews) the lease, and the holder looks at the
 * clusters' roles (fencing a second writable member) and at the Alertmanagers (enqueuing what no notification
 * brought). A process that does not hold the lease tries again when it would lapse, so a dead holder is replaced
 * within the lease's TTL. Nothing here throws out of the loop: a failed pass is counted, logged (at most once a
 * minute per kind of failure) and retried at the next tick.
 */
export function startReconcileLoop(deps: {
  lease: ReconcileLease;
  roles?: RoleSweep;
  alerts?: AlertSweep;
  hooks?: readonly PassHook[];
  intervalMs: number;
  metrics: ReconcileMetrics;
  logger: Logger;
  now?: () => number;
}): ReconcileLoop {
  const now = deps.now ?? Date.now;
  const { metrics, logger } = deps;
  const state: ReconcileStatus = { leader: false, intervalMs: deps.intervalMs, alertmanagers: [], problems: [] };
  const logLease = createRateLimited(60_000, now);
  const logAlertmanagers = createRateLimited(60_000, now);
  const logPass = createRateLimited(60_000, now);
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let stopped = false;

  const setLeader = (leader: boolean) => {
    if (leader === state.leader) return;
    state.leader = leader;
    metrics.leader.set(leader ? 1 : 0);
    // Only the holder reports the Alertmanagers: a follower's stale 0 or 1 would contradict it.
    if (!leader) {
      metrics.alertmanagerUp.reset();
      state.alertmanagers = [];
    }
    logger.info({ leader }, leader ? 'reconcile: this process runs the loop' : 'reconcile: another process runs the loop');
  };

  const pass = async (): Promise<ReconcilePassOutcome> => {
    const problems: string[] = [];
    let outcome: ReconcilePassOutcome = 'ok';
    try {
      const [roles, alerts] = await Promise.all([deps.roles?.sweep(), deps.alerts?.sweep()]);
      if (roles && !roles.complete) problems.push('the clusters could not be probed');
      if (alerts) {
        state.alertmanagers = alerts.alertmanagers;
        const down = alerts.alertmanagers.filter((reading) => !reading.ok);
        if (down.length > 0) {
          problems.push(...down.map((reading) => `${reading.name}: ${reading.reason ?? 'unreachable'}`));
          logAlertmanagers((suppressed) => {
            logger.warn({ alertmanagers: down, suppressed }, 'reconcile: Alertmanager unreachable; the webhook path still works');
          });
        }
      }
      for (const hook of deps.hooks ?? []) await hook({ alerts });
      if (problems.length > 0) outcome = 'partial';
    } catch (error) {
      // Redis failed under the sweep (the intake, a job lookup): nothing was lost, the next pass does it again.
      outcome = 'failed';
      problems.push(errorMessage(error));
      logPass((suppressed) => {
        logger.warn({ err: error, suppressed }, 'reconcile: pass failed');
      });
    }
    state.problems = problems;
    return outcome;
  };

  const tick = async () => {
    const started = now();
    let next = deps.intervalMs;
    try {
      const claim = await deps.lease.claim();
      if (!claim.held) {
        setLeader(false);
        // Try again the moment the holder's lease would lapse (if it does not renew), or at the next tick.
        next = Math.min(deps.intervalMs, claim.expiresInMs + 1);
        return;
      }
      setLeader(true);
      const outcome = await pass();
      metrics.passes.inc({ outcome });
      const at = new Date(now());
      state.lastPassAt = at.toISOString();
      state.lastOutcome = outcome;
      if (outcome === 'ok') {
        state.lastSuccessAt = at.toISOString();
        metrics.lastSuccess.set(at.getTime() / 1000);
      }
      next = Math.max(0, started + deps.intervalMs - now());
    } catch (error) {
      // The lease could not be claimed (Redis down): whoever held it stops acting until it can renew.
      setLeader(false);
      metrics.passes.inc({ outcome: 'failed' });
      state.problems = [errorMessage(error)];
      logLease((suppressed) => {
        logger.warn({ err: error, suppressed }, 'reconcile: cannot reach Redis for the lease');
      });
    } finally {
      if (!stopped) timer = setTimeout(run, next);
    }
  };

  function run() {
    inFlight = tick().finally(() => {
      inFlight = undefined;
    });
  }

  metrics.leader.set(0);
  run();
  return {
    status: () => ({ ...state, alertmanagers: [...state.alertmanagers], problems: [...state.problems] }),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
      if (state.leader) {
        await deps.lease.release().catch(() => undefined);
        setLeader(false);
      }
    },
  };
}
