import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Playbook, PlaybookStep } from '../../src/core/playbook.js';
import { runDataSchema, type RunData, type SkipRecord } from '../../src/core/run-data.js';
import { runTemplateContext, type RunContext } from '../../src/runner/run-context.js';
import type { RunOutcome } from '../../src/runner/run-outcome.js';

/** A run context whose job is in memory: what the runner did to its job is recorded for the test to read. */
export interface FakeRun extends RunContext {
  /** A copy of the data at each checkpoint. */
  readonly checkpoints: RunData[];
  /** Each move to the delayed set, as its epoch ms. */
  readonly delays: number[];
  readonly promotions: { count: number };
  readonly outcomes: { outcome: RunOutcome; skipKind?: SkipRecord['kind'] }[];
  /** What `fail` was given. */
  readonly failures: unknown[];
  /** The log lines, parsed. */
  readonly logs: { msg: string; level: number; [field: string]: unknown }[];
}

/** A step of a playbook. */
export function step(name: string, action = 'record', extra: Partial<PlaybookStep> = {}): PlaybookStep {
  return { name, action, with: { name }, timeoutMs: 5000, ...extra };
}

/** A playbook with one step, changed by `extra`. */
export function playbook(extra: Partial<Playbook> = {}): Playbook {
  return {
    name: 'failover',
    file: 'failover.yaml',
    match: '{alertname="Down"}',
    matchers: [],
    on: 'firing',
    target: '{{ labels.instance }}',
    retry: { attempts: 3, backoffMs: 100 },
    mode: 'live',
    guards: [],
    steps: [step('promote')],
    ...extra,
  };
}

/** The job data of a run of `playbook` for an alert on cache-a, changed by `extra`. */
export function runData(extra: Partial<RunData> = {}): RunData {
  return runDataSchema.parse({
    playbook: 'failover',
    target: 'cache-a',
    alert: {
      fingerprint: 'f00d',
      status: 'firing',
      labels: { alertname: 'Down', instance: 'cache-a' },
      annotations: {},
      startsAt: '2026-01-01T00:00:00.000Z',
    },
    receiver: 'remediator',
    receivedAt: '2026-01-01T00:00:30.000Z',
    dryRun: false,
    ...extra,
  });
}

/** Thrown by a fake run's `fail`, carrying what it was given. */
export class FailedRun extends Error {
  constructor(readonly error: unknown) {
    super('the run failed', { cause: error });
    this.name = this.constructor.name;
  }
}

/** A run context for unit tests: no Redis, no BullMQ job. */
export function fakeRun(options: { data?: RunData; playbook?: Playbook; attempt?: number; workerSignal?: AbortSignal } = {}): FakeRun {
  const data = options.data ?? runData();
  const book = options.playbook ?? playbook();
  const logs: FakeRun['logs'] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(JSON.parse(chunk.toString()) as FakeRun['logs'][number]);
      done();
    },
  });
  const run: FakeRun = {
    id: 'run-1',
    data,
    playbook: book,
    target: data.target ?? '',
    steps: data.phase === 'failback' ? (book.resolved?.steps ?? []) : book.steps,
    template: runTemplateContext(data, 'run-1', book, data.target ?? ''),
    logger: pino({ level: 'debug' }, stream),
    attempt: options.attempt ?? 1,
    workerSignal: options.workerSignal,
    held: { slot: false, lease: undefined, leaseLost: new AbortController() },
    checkpoints: [],
    delays: [],
    promotions: { count: 0 },
    outcomes: [],
    failures: [],
    logs,
    checkpoint() {
      run.checkpoints.push(structuredClone(data));
      return Promise.resolve();
    },
    delay(untilMs) {
      run.delays.push(untilMs);
      return Promise.resolve();
    },
    promote() {
      run.promotions.count += 1;
      return Promise.resolve();
    },
    finish(outcome, skipKind) {
      run.outcomes.push({ outcome, ...(skipKind === undefined ? {} : { skipKind }) });
    },
    fail(error) {
      run.failures.push(error);
      throw new FailedRun(error);
    },
    ended() {
      return run.outcomes.length > 0;
    },
  };
  return run;
}
