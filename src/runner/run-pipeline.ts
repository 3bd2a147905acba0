import type { SkipRecord } from '../core/run-data.js';
import type { PrometheusClient } from '../promql/prometheus-client.js';
import type { FailbackState } from '../state/failback-state.js';
import type { RunApprovals } from '../state/run-approvals.js';
import type { GlobalBudget, RunBudgets } from '../state/run-budgets.js';
import type { SkipRechecks } from '../state/skip-rechecks.js';
import type { TargetHolds } from '../state/target-holds.js';
import type { TargetLocks } from '../state/target-lock.js';
import { createAdmissionGate } from './gates/admission-gate.js';
import { createApprovalGate, type NotifySteps } from './gates/approval-gate.js';
import { createBudgetsGate } from './gates/budgets-gate.js';
import { createCooldownGate } from './gates/cooldown-gate.js';
import { createFailbackSupersededGate } from './gates/failback-superseded-gate.js';
import type { Gate } from './gates/gate.js';
import { createGuardsGate } from './gates/guards-gate.js';
import { createHoldGate } from './gates/hold-gate.js';
import { createLeaseGate } from './gates/lease-gate.js';
import { createPauseGate } from './gates/pause-gate.js';
import { createRecordedSkipGate } from './gates/recorded-skip-gate.js';
import { createRenewalGate } from './gates/renewal-gate.js';
import { createSlotGate } from './gates/slot-gate.js';
import { together } from './gates/together.js';
import { park, resultOf, type RunContext, type RunResult } from './run-context.js';
import { createSilenceGate, type RunSilenceDeps } from './run-silence.js';

/** What the gates read and take: the Redis state as small interfaces, Prometheus, the kill switch. */
export interface PipelineDeps {
  /** Per-target leases; without them runs on one target may overlap (single-process tests only). */
  locks?: TargetLocks;
  /** How often a run waiting for its target's lease is tried again. */
  lockRetryMs?: number;
  /** Lease renewal period; a third of the lease TTL. */
  lockRenewMs?: number;
  /** Lets a failback skip itself when its alert fired again. */
  failback?: Pick<FailbackState, 'newestFiring'>;
  /** A remediation run on a held target is skipped with the hold's reason. */
  holds?: Pick<TargetHolds, 'get'>;
  /** Where guards are evaluated; without it a guard errors (and skips the run unless onError: proceed). */
  prometheus?: PrometheusClient;
  /** Cooldowns, run budgets, blast radius and concurrency slots; without it no budget is enforced. */
  budgets?: Pick<RunBudgets, 'admit' | 'finished' | 'standDown' | 'acquireSlot' | 'releaseSlot'>;
  /** Where runs a step skipped are noted for the reconcile loop's recheck. */
  rechecks?: Pick<SkipRechecks, 'note'>;
  global?: GlobalBudget & { concurrencyExceeded: 'wait' | 'skip' };
  /** Decisions on runs that need approval. */
  approvals?: Pick<RunApprovals, 'get'>;
  /** The kill switch: while it answers true, no step starts and runs wait. */
  isPaused?: () => Promise<boolean>;
  /** How often a run waiting for the kill switch, a concurrency slot or its target's lease is tried again. */
  waitRetryMs?: number;
  /** Where a playbook's `silence:` is held while its run is active; without it no silence is made. */
  silences?: RunSilenceDeps;
}

/** The gates of each phase, in the order a run meets them. */
export interface RunPipelines {
  remediate: readonly Gate<RunContext>[];
  failback: readonly Gate<RunContext>[];
}

/**
 * Composes the gates. Holds, approval and admission (guards, budgets) gate remediation, not failback: fencing a
 * returning old primary is never held back. The kill switch and a hold are read together, in one round trip.
 */
export function createRunPipelines(deps: PipelineDeps, notify: NotifySteps<RunContext>, now: () => Date): RunPipelines {
  const retryMs = deps.waitRetryMs ?? 1000;
  const renewMs = deps.lockRenewMs ?? 10_000;
  // A concurrency slot outlives three missed renewals, like the target lease.
  const slotTtlMs = Math.max(renewMs, 1000) * 3;
  const maxConcurrentRuns = deps.global?.maxConcurrentRuns ?? 0;
  const slot = (whenFull: 'wait' | 'skip') =>
    createSlotGate({ budgets: deps.budgets, maxConcurrentRuns, whenFull, ttlMs: slotTtlMs, retryMs, now });
  const pause = createPauseGate({ isPaused: deps.isPaused, retryMs });
  const recordedSkip = createRecordedSkipGate();
  // What a run holds lives from the lease on: renewed, then released in reverse order when the run ends.
  const held = [
    createLeaseGate({ locks: deps.locks, retryMs: deps.lockRetryMs ?? retryMs }),
    createRenewalGate({ budgets: deps.budgets, maxConcurrentRuns: deps.global?.maxConcurrentRuns ?? 1, slotTtlMs, everyMs: renewMs }),
  ];
  // Last: a run past every other gate is active until it ends.
  const silence = deps.silences ? [createSilenceGate(deps.silences, now)] : [];
  const cooldown = createCooldownGate({ budgets: deps.budgets, now, ...(deps.rechecks ? { rechecks: deps.rechecks } : {}) });
  return {
    remediate: [
      recordedSkip,
      together(pause, createHoldGate({ holds: deps.holds, rechecks: deps.rechecks, now })),
      createApprovalGate({ approvals: deps.approvals, notify, now }),
      slot(deps.global?.concurrencyExceeded ?? 'wait'),
      ...held,
      createAdmissionGate({
        gates: [
          createGuardsGate({ prometheus: deps.prometheus, now }),
          createBudgetsGate({ budgets: deps.budgets, global: deps.global, now }),
        ],
        now,
      }),
      cooldown,
      ...silence,
    ],
    failback: [createFailbackSupersededGate({ failback: deps.failback }), recordedSkip, pause, slot('wait'), ...held, cooldown, ...silence],
  };
}

/**
 * Takes the run through its gates and, when all pass, into `act`. A skip ends in `skipped`, a wait parks the job,
 * a cancel ends the run. Whatever the gates took is released when the run ends, last taken first.
 */
export async function passGates(
  run: RunContext,
  gates: readonly Gate<RunContext>[],
  skipped: (skip: SkipRecord) => Promise<RunResult>,
  act: () => Promise<RunResult>,
): Promise<RunResult> {
  const releases: (() => Promise<void>)[] = [];
  try {
    for (const gate of gates) {
      const verdict = await gate.check(run);
      switch (verdict.kind) {
        case 'pass':
          if (verdict.release) releases.push(verdict.release);
          continue;
        case 'skip':
          if (verdict.log) run.logger.warn(verdict.log.fields, verdict.log.message);
          return await skipped(verdict.skip);
        case 'wait':
          return await park(run, verdict.untilMs, verdict.why, verdict.afterMove);
        case 'cancel':
          run.logger.info(verdict.log.fields, verdict.log.message);
          run.finish('cancelled');
          return resultOf(run, { cancelled: true }, []);
      }
    }
    return await act();
  } finally {
    for (const release of releases.reverse()) await release();
  }
}
