import type { WebhookPayload } from '../../src/alerts/webhook-schema.js';
import type { GuardRecord } from '../../src/runner/gates/evaluate-guards.js';
import type { PlaybookSet } from './playbook-set.js';
import type { InputSeries } from './series-prometheus.js';

/** Runs a playbook already made on a target before the case starts, seeded through the real RunBudgets. */
export interface BudgetSeed {
  playbook: string;
  target: string;
  /** When each run was admitted, ms from the case's start (negative: before it); the last one starts the cooldown. */
  runsAtMs: readonly number[];
}

/** A maintenance hold in force over part of the case (ms from its start), set through the real TargetHolds. */
export interface HoldSeed {
  target: string;
  reason: string;
  by?: string;
  /** From the case's start unless given. */
  fromMs?: number;
  untilMs: number;
}

/** One webhook delivered to the intake at a time of the case's clock. */
export interface SimInput {
  /** ms from the case's start. */
  atMs: number;
  payload: WebhookPayload;
}

/** One case: playbooks, the series Prometheus answers guards from, the state before the first input, the inputs. */
export interface SimCase {
  name: string;
  playbooks: PlaybookSet;
  /** The case's clock at time 0 (promtool's convention: the epoch). Inputs and seeds count from it. */
  start: Date;
  /** The series; their samples count from the case's start too. */
  series: readonly InputSeries[];
  budgets?: readonly BudgetSeed[];
  holds?: readonly HoldSeed[];
  /** The fleet's blast radius (MAX_TARGETS / TARGETS_WINDOW); none unless given. */
  global?: { maxTargets: number; targetsWindowMs: number };
}

/** A case and what is delivered during it. */
export interface SimScenario extends SimCase {
  inputs: readonly SimInput[];
}

/** One step as the dry run recorded it: would-run with its rendered, validated parameters, or failed. */
export interface SimStep {
  name: string;
  action: string;
  status: string;
  params?: unknown;
  error?: { code: string; message: string };
}

/** How a matched run ended in the dry run. */
export type SimOutcome =
  /** Past every gate: its steps are rendered (`steps`). */
  | 'would-run'
  /** A gate said no (`skip`): a hold, a guard, a budget, the blast radius. */
  | 'skipped'
  /** It could not run (`error`): its target did not render, a step's parameters were invalid after templating. */
  | 'failed'
  /** A failback whose alert fired again (removed by the intake, or cancelled by its own gate). */
  | 'cancelled'
  /** Its job id was already queued by an earlier input: the intake added nothing (a repeat, a redelivery). */
  | 'duplicate'
  /** A gate parked it (a live system would try again later); the simulation does not. */
  | 'waiting';

/** One run a matched playbook made of an alert, and how it ended. */
export interface SimRun {
  jobId: string;
  playbook: string;
  phase: 'remediate' | 'failback';
  /** The rendered target; null when it could not be rendered (`error` says why). */
  target: string | null;
  /** When it went through its gates (the case's clock): the input's time, or a failback's after its delay. */
  at: string;
  outcome: SimOutcome;
  steps: SimStep[];
  /** The skipped: steps a skip ran (dry: would-run). */
  skipSteps: SimStep[];
  skip?: { kind: string; reason: string };
  guards?: GuardRecord[];
  /** A playbook with approval: the request a live run would make (a dry run does not wait for it). */
  approval?: { state: string; deadline: string };
  error?: string;
}

/** One alert of an input and the runs the playbooks it matched made of it. */
export interface SimAlert {
  index: number;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  fingerprint: string;
  startsAt: string;
  /** The same alert (fingerprint, start, status) appeared earlier in the same body: the intake counts it once. */
  duplicateOf?: number;
  runs: SimRun[];
}

/** What one input made. */
export interface SimInputResult {
  index: number;
  at: string;
  alerts: SimAlert[];
  /** Pending failbacks the intake removed because their alert fired again. */
  cancelledFailbacks: string[];
}

/** What a case made; `problems` are its state's (a seed for an unknown playbook, a seed a budget refused). */
export interface SimScenarioResult {
  name: string;
  problems: string[];
  inputs: SimInputResult[];
}
