import { DelayedError, type Job, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createAlertIntake } from '../../src/alerts/alert-intake.js';
import { runJobId } from '../../src/alerts/job-id.js';
import type { ValueLimits } from '../../src/alerts/value-limits.js';
import { configSchema } from '../../src/config/config-schema.js';
import { alertFingerprint } from '../../src/alerts/webhook-schema.js';
import { errorMessage } from '../../src/core/errors/index.js';
import type { RunData, StepRecord } from '../../src/core/run-data.js';
import { createMetrics } from '../../src/metrics/create-metrics.js';
import { createPrometheusClient } from '../../src/promql/prometheus-client.js';
import { createRemediationQueue } from '../../src/queue/remediation-queue.js';
import { createRunInserter } from '../../src/queue/run-inserter.js';
import { createRunProcessor } from '../../src/runner/run-processor.js';
import { createFailbackState } from '../../src/state/failback-state.js';
import { createRunBudgets, type GlobalBudget, type RunBudgets } from '../../src/state/run-budgets.js';
import { createTargetHolds, type TargetHolds } from '../../src/state/target-holds.js';
import { createTargetLocks } from '../../src/state/target-lock.js';
import { startRedis } from '../harness/redis-server.js';
import { startSeriesPrometheus, type SeriesPrometheus } from './series-prometheus.js';
import type { SimAlert, SimInputResult, SimRun, SimScenario, SimScenarioResult, SimStep } from './sim-types.js';

export type * from './sim-types.js';

/** Where the simulator finds its servers' programs (default: on PATH). */
export interface SimulatorBinaries {
  redisServer?: string;
  prometheus?: string;
  promtool?: string;
}

const prefix = 'remediator:sim';
/** The service's defaults (WEBHOOK_*_LIMIT): the values a run keeps of its alert are cut as in production. */
const valueLimits: ValueLimits = {
  labelBytes: configSchema.shape.WEBHOOK_LABEL_VALUE_LIMIT.parse(undefined),
  annotationBytes: configSchema.shape.WEBHOOK_ANNOTATION_VALUE_LIMIT.parse(undefined),
  alertBytes: configSchema.shape.WEBHOOK_ALERT_VALUES_LIMIT.parse(undefined),
};
const retentionMs = 30 * 86_400_000;

/**
 * Simulates what the playbooks would do with each scenario's inputs, through the real code: the intake (matching,
 * job ids, dedupe), the run processor's gates (hold, approval, lease, guards, budgets) and its dry-run steps
 * (rendered and validated, never run). One throwaway redis-server and one throwaway Prometheus (holding every
 * scenario's series, each in a time slot of its own) serve all scenarios, started here and stopped before this
 * resolves; Redis is flushed between scenarios. Each scenario has its own clock: every input is taken in, and its
 * runs go through their gates, at the input's time; guards query Prometheus at that time.
 */
export async function simulate(scenarios: readonly SimScenario[], binaries: SimulatorBinaries = {}): Promise<SimScenarioResult[]> {
  const prometheus = await startSeriesPrometheus(
    scenarios.map((scenario) => scenario.series),
    binaries,
  );
  try {
    const redisServer = await startRedis({
      appendOnly: false,
      ...(binaries.redisServer === undefined ? {} : { binary: binaries.redisServer }),
    });
    try {
      const redis = redisServer.client();
      const results: SimScenarioResult[] = [];
      for (const [index, scenario] of scenarios.entries()) {
        await redis.flushall();
        results.push(await simulateScenario(scenario, index, redis, prometheus));
      }
      return results;
    } finally {
      await redisServer.stop();
    }
  } finally {
    await prometheus.stop();
  }
}

/** One run waiting for its time (a failback's delay), and the record it fills in. */
interface PendingRun {
  dueMs: number;
  order: number;
  run: SimRun;
}

async function simulateScenario(scenario: SimScenario, index: number, redis: Redis, series: SeriesPrometheus): Promise<SimScenarioResult> {
  const startMs = scenario.start.getTime();
  let clockMs = startMs;
  const now = () => new Date(clockMs);
  const logger = pino({ level: 'silent' });
  const metrics = createMetrics({ registry: new Registry(), defaultMetrics: false });
  const queue = createRemediationQueue({ name: `sim-${index}`, connection: redis });
  const failback = createFailbackState(redis, { prefix, retentionMs });
  const budgets = createRunBudgets(redis, { prefix });
  const holds = createTargetHolds(redis, `${prefix}:hold`);
  const global = {
    maxConcurrentRuns: 0,
    maxTargets: scenario.global?.maxTargets ?? 0,
    targetsWindowMs: scenario.global?.targetsWindowMs ?? 0,
  };
  const { playbooks, actions } = scenario.playbooks;
  const intake = createAlertIntake({
    playbooks,
    queue,
    inserter: createRunInserter(redis, queue),
    failback,
    logger,
    metrics,
    retentionMs,
    dryRun: true,
    timeoutMs: 10_000,
    valueLimits,
    redelivery: { keyPrefix: prefix, windowMs: 5 * 60_000 },
    now,
  });
  const processRun = createRunProcessor({
    playbooks: new Map(playbooks.map((playbook) => [playbook.name, playbook])),
    actions,
    logger,
    metrics,
    locks: createTargetLocks(redis, { prefix, ttlMs: 30_000 }),
    failback,
    holds,
    // Guards see the scenario's series at the scenario's time: its slot on the shared Prometheus's timeline.
    prometheus: createPrometheusClient({ baseUrl: series.url, clock: () => new Date(series.offsetOf(index) + clockMs - startMs) }),
    budgets,
    global: { ...global, concurrencyExceeded: 'wait' },
    now,
  });
  try {
    const problems = await seedBudgets(scenario, budgets, global);
    const pending: PendingRun[] = [];
    let order = 0;
    const processDue = async (untilMs: number) => {
      pending.sort((a, b) => a.dueMs - b.dueMs || a.order - b.order);
      while (pending.length > 0 && (pending[0]?.dueMs ?? Infinity) <= untilMs) {
        const next = pending.shift() as PendingRun;
        clockMs = next.dueMs;
        await processOne(next.run);
      }
    };
    const processOne = async (run: SimRun) => {
      await applyHolds(scenario, holds, clockMs - startMs, now());
      run.at = now().toISOString();
      await processJob(run, queue, processRun);
    };
    const inputs: SimInputResult[] = [];
    const ordered = [...scenario.inputs]
      .map((input, position) => ({ input, position }))
      .sort((a, b) => a.input.atMs - b.input.atMs || a.position - b.position);
    for (const { input, position } of ordered) {
      await processDue(startMs + input.atMs);
      clockMs = startMs + input.atMs;
      const alerts = describeAlerts(input.payload);
      const result = await intake.accept(input.payload);
      const immediate: SimRun[] = [];
      for (const queued of result.runs) {
        const alert = ownerOf(alerts, queued);
        const run: SimRun = {
          jobId: queued.jobId,
          playbook: queued.playbook,
          phase: queued.phase,
          target: null,
          at: now().toISOString(),
          outcome: 'duplicate',
          steps: [],
          skipSteps: [],
        };
        alert?.runs.push(run);
        if (!queued.added) {
          // The run an earlier input queued under this id: its target, as rendered then.
          run.target = (await queue.getJob(queued.jobId))?.data.target ?? null;
          continue;
        }
        const dueMs = queued.notBefore === undefined ? clockMs : Date.parse(queued.notBefore);
        if (dueMs <= clockMs) immediate.push(run);
        else pending.push({ dueMs, order: order++, run });
      }
      for (const run of immediate) await processOne(run);
      inputs.push({ index: position, at: now().toISOString(), alerts, cancelledFailbacks: result.cancelledFailbacks });
    }
    await processDue(Infinity);
    inputs.sort((a, b) => a.index - b.index);
    return { name: scenario.name, problems, inputs };
  } finally {
    await queue.close();
  }
}

/** The alerts of a body as the intake sees them; a copy of an earlier one (fingerprint, start, status) is marked. */
function describeAlerts(payload: SimScenario['inputs'][number]['payload']): SimAlert[] {
  const alerts: SimAlert[] = [];
  for (const [index, alert] of payload.alerts.entries()) {
    const fingerprint = alertFingerprint(alert);
    const earlier = alerts.find(
      (other) => other.fingerprint === fingerprint && other.startsAt === alert.startsAt && other.status === alert.status,
    );
    alerts.push({
      index,
      status: alert.status,
      labels: alert.labels,
      fingerprint,
      startsAt: alert.startsAt,
      ...(earlier ? { duplicateOf: earlier.index } : {}),
      runs: [],
    });
  }
  return alerts;
}

/** The alert a queued run was made of: the one whose id, by the intake's own job-id function, is the run's. */
function ownerOf(alerts: readonly SimAlert[], run: { jobId: string; playbook: string }): SimAlert | undefined {
  return alerts.find(
    (alert) =>
      alert.duplicateOf === undefined &&
      runJobId({ playbook: run.playbook, fingerprint: alert.fingerprint, startsAt: alert.startsAt, status: alert.status }) === run.jobId,
  );
}

/** Seeds the runs made before the case through RunBudgets itself: admitted at their times, the last one finished. */
async function seedBudgets(scenario: SimScenario, budgets: RunBudgets, global: GlobalBudget): Promise<string[]> {
  const problems: string[] = [];
  const startMs = scenario.start.getTime();
  for (const [index, seed] of (scenario.budgets ?? []).entries()) {
    const playbook = scenario.playbooks.playbooks.find((candidate) => candidate.name === seed.playbook);
    if (!playbook) {
      problems.push(`budgets[${index}]: no playbook ${seed.playbook} in ${scenario.playbooks.dir}`);
      continue;
    }
    const times = [...seed.runsAtMs].sort((a, b) => a - b);
    for (const [run, atMs] of times.entries()) {
      // Past runs happened: only the window's count and the blast radius are recorded, the cooldown is the last run's.
      const decision = await budgets.admit({
        runId: `seed-${index}-${run}`,
        playbook: seed.playbook,
        target: seed.target,
        budget: playbook.budget === undefined ? undefined : { ...playbook.budget, cooldownMs: 0 },
        global,
        dryRun: true,
        nowMs: startMs + atMs,
      });
      if (!decision.admitted)
        problems.push(`budgets[${index}]: the run at ${new Date(startMs + atMs).toISOString()} was refused (${decision.reason})`);
    }
    const last = times.at(-1);
    if (last !== undefined)
      await budgets.finished({
        playbook: seed.playbook,
        target: seed.target,
        budget: playbook.budget,
        dryRun: true,
        nowMs: startMs + last,
      });
  }
  return problems;
}

/** Sets the holds in force at `atMs` (from the case's start) and lifts the others, through TargetHolds itself. */
async function applyHolds(scenario: SimScenario, holds: TargetHolds, atMs: number, now: Date): Promise<void> {
  for (const seed of scenario.holds ?? []) {
    const active = (seed.fromMs ?? -Infinity) <= atMs && atMs < seed.untilMs;
    if (active) await holds.hold(seed.target, seed.untilMs - atMs, seed.reason, seed.by ?? 'playbook test', now);
    else await holds.release(seed.target);
  }
}

function simStep(record: StepRecord): SimStep {
  return {
    name: record.name,
    action: record.action,
    status: record.status,
    ...(record.params === undefined ? {} : { params: record.params }),
    ...(record.error === undefined ? {} : { error: record.error }),
  };
}

/** Takes one queued run through the real run processor (as a worker would) and fills `run` from what it recorded. */
async function processJob(run: SimRun, queue: Queue<RunData>, processRun: ReturnType<typeof createRunProcessor>): Promise<void> {
  const job = await queue.getJob(run.jobId);
  if (!job) {
    // The intake removed it: a failback whose alert fired again within its delay.
    run.outcome = 'cancelled';
    return;
  }
  let error: unknown;
  let cancelled = false;
  try {
    cancelled = (await processRun(job as Job)).cancelled === true;
  } catch (caught) {
    error = caught;
  }
  const data = (await queue.getJob(run.jobId))?.data ?? job.data;
  run.target = data.target;
  run.steps = data.steps.map(simStep);
  run.skipSteps = data.skipSteps.map(simStep);
  if (data.guards !== undefined) run.guards = data.guards as NonNullable<SimRun['guards']>;
  if (data.approval !== undefined) run.approval = { state: data.approval.state, deadline: data.approval.deadline };
  if (data.skip !== undefined) run.skip = { kind: data.skip.kind, reason: data.skip.reason };
  if (error instanceof DelayedError) run.outcome = 'waiting';
  else if (error !== undefined) {
    run.outcome = 'failed';
    run.error = errorMessage(error);
  } else run.outcome = cancelled ? 'cancelled' : data.skip !== undefined ? 'skipped' : 'would-run';
}
