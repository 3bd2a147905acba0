import type { MachineInfo } from './machine.js';

/** Everything one `npm run bench` measured. */
export interface Report {
  quick: boolean;
  mode: 'compiled' | 'tsx';
  machine: MachineInfo;
  /** Each part's figures, `{ skipped }` or `{ error }`. */
  parts: Partial<Record<string, object>>;
  seconds?: number;
  loadAverageAtEnd?: number;
  targets?: TargetCheck[];
}

/** One target of issue 7, checked against a figure. */
export interface TargetCheck {
  figure: string;
  target: string;
  value: number | null;
  met: boolean | null;
}

/** The value at a dotted path (`intake.p99Ms`) of the report's parts, if it is a number. */
export function figure(report: Report, path: string): number | undefined {
  let value: unknown = report.parts;
  for (const key of path.split('.'))
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

const goals: { figure: string; target: string; met: (value: number) => boolean }[] = [
  { figure: 'intake.ratio', target: '≥ 1.0 × baseline req/s', met: (value) => value >= 1 },
  { figure: 'intake.p99Ms', target: '≤ 25 ms', met: (value) => value <= 25 },
  { figure: 'dispatch.p99Ms', target: '≤ 10 ms', met: (value) => value <= 10 },
  { figure: 'storm.seconds', target: '< 10 s', met: (value) => value < 10 },
  { figure: 'storm.peakRssMb', target: '≤ 200 MB', met: (value) => value <= 200 },
  { figure: 'recovery.rtoSeconds', target: '≤ 5 s (median of 5)', met: (value) => value <= 5 },
  { figure: 'recovery.pauseRtoSeconds', target: '≤ 6 s (median of 5)', met: (value) => value <= 6 },
  { figure: 'recovery.rtoOverDetectionRatio', target: '≤ 1.5 × detection floor', met: (value) => value <= 1.5 },
  { figure: 'recovery.rtoOverSentinelRatio', target: '≤ 1.0 × Sentinel', met: (value) => value <= 1 },
  { figure: 'switchover.protected.maxMs', target: '< 1 s (issue 16)', met: (value) => value < 1000 },
];

/** Every target, met or not; `null` where the part did not run. */
export function targets(report: Report): TargetCheck[] {
  return goals.map((goal) => {
    const value = figure(report, goal.figure);
    return { figure: goal.figure, target: goal.target, value: value ?? null, met: value === undefined ? null : goal.met(value) };
  });
}

const show = (value: number | undefined, unit = ''): string => (value === undefined ? '–' : `${value}${unit}`);

/** The human-readable table: each figure beside its baseline, the ratio and the target. */
export function formatTable(report: Report): string {
  const f = (path: string) => figure(report, path);
  const pair = (a: string, b: string, unit: string) => `${show(f(a))} / ${show(f(b))}${unit}`;
  const goal = (path: string) => {
    const check = report.targets?.find((entry) => entry.figure === path);
    return check ? `${check.target} ${check.met === null ? '' : check.met ? '✓ met' : '✗ missed'}` : '';
  };
  const rows: string[][] = [['part', 'figure', 'remediator', 'baseline', 'ratio', 'target']];
  const status = (part: string): string | undefined => {
    const entry = report.parts[part] as { skipped?: string; error?: string } | undefined;
    if (entry === undefined) return undefined;
    return entry.skipped !== undefined
      ? `skipped: ${entry.skipped}`
      : entry.error !== undefined
        ? `FAILED: ${entry.error.split('\n')[0] ?? ''}`
        : '';
  };
  const section = (part: string, lines: string[][]) => {
    const state = status(part);
    if (state === undefined) return;
    if (state !== '') rows.push([part, state, '', '', '', '']);
    else rows.push(...lines);
  };
  section('intake', [
    [
      'intake',
      'req/s (50 connections)',
      show(f('intake.reqPerSec')),
      `${show(f('intake.baseline.reqPerSec'))} (express + queue.add)`,
      show(f('intake.ratio'), '×'),
      goal('intake.ratio'),
    ],
    [
      'intake',
      'p50 / p99 latency at that load',
      pair('intake.p50Ms', 'intake.p99Ms', ' ms'),
      pair('intake.baseline.p50Ms', 'intake.baseline.p99Ms', ' ms'),
      '',
      goal('intake.p99Ms'),
    ],
    [
      'intake',
      `p50 / p99 at ${show(f('intake.atRate.ratePerSec'))} webhooks/s`,
      pair('intake.atRate.p50Ms', 'intake.atRate.p99Ms', ' ms'),
      pair('intake.atRate.baseline.p50Ms', 'intake.atRate.baseline.p99Ms', ' ms'),
      '',
      '',
    ],
    [
      'intake',
      'CPU per webhook (server process)',
      show(f('intake.cpuMsPerRequest'), ' ms'),
      show(f('intake.baseline.cpuMsPerRequest'), ' ms'),
      show(f('intake.cpuOverBaselineRatio'), '×'),
      '',
    ],
  ]);
  section('dispatch', [
    [
      'dispatch',
      'webhook → first step, p50 / p99',
      pair('dispatch.p50Ms', 'dispatch.p99Ms', ' ms'),
      `${pair('dispatch.baseline.p50Ms', 'dispatch.baseline.p99Ms', ' ms')} (bare BullMQ)`,
      show(f('dispatch.p99OverBaselineRatio'), '×'),
      goal('dispatch.p99Ms'),
    ],
  ]);
  section('storm', [
    [
      'storm',
      '5,000 alerts × 10 deliveries: drain',
      show(f('storm.seconds'), ' s'),
      `${show(f('storm.baselineSeconds'), ' s')} (bare BullMQ)`,
      show(f('storm.ratio'), '×'),
      goal('storm.seconds'),
    ],
    ['storm', 'peak RSS', show(f('storm.peakRssMb'), ' MB'), '', '', goal('storm.peakRssMb')],
  ]);
  section('lint', [
    [
      'lint',
      `${show(f('lint.files'))} files: in-process, per file`,
      `${show(f('lint.inProcessMs'), ' ms')}, ${show(f('lint.msPerFile'), ' ms')}`,
      `${show(f('lint.parseBaselineMs'), ' ms')} (parse only)`,
      show(f('lint.inProcessOverParseRatio'), '×'),
      '',
    ],
    [
      'lint',
      '`remediator lint DIR` command',
      show(f('lint.cliSeconds'), ' s'),
      `${show(f('lint.promtoolSeconds'), ' s')} (promtool check rules)`,
      show(f('lint.cliOverPromtoolRatio'), '×'),
      '',
    ],
  ]);
  section('reconcile', [
    [
      'reconcile',
      `a pass over ${show(f('reconcile.alerts'))} alerts, each with its run`,
      show(f('reconcile.steadyPassMs'), ' ms'),
      `${show(f('reconcile.readBaselineMs'), ' ms')} (bare GET + JSON.parse of the list)`,
      show(f('reconcile.steadyOverReadRatio'), '×'),
      '',
    ],
    [
      'reconcile',
      'the pass enqueuing every lost alert',
      `${show(f('reconcile.enqueuePassMs'), ' ms')} (${show(f('reconcile.enqueuedAlertsPerSec'))} alerts/s)`,
      '',
      '',
      '',
    ],
  ]);
  const intervals =
    (report.parts.recovery as { intervals?: { scrapeIntervalSeconds: number; rounds: number }[] } | undefined)?.intervals ?? [];
  section('recovery', [
    [
      'recovery',
      'RTO (fault → first write on the new primary)',
      show(f('recovery.rtoSeconds'), ' s'),
      `${show(f('recovery.detectionSeconds'), ' s')} detection / ${show(f('recovery.sentinelSeconds'), ' s')} Sentinel`,
      `${show(f('recovery.rtoOverDetectionRatio'), '×')} / ${show(f('recovery.rtoOverSentinelRatio'), '×')}`,
      `${goal('recovery.rtoSeconds')}; ${goal('recovery.rtoOverDetectionRatio')}; ${goal('recovery.rtoOverSentinelRatio')}`,
    ],
    [
      'recovery',
      'RTO of a hung (SIGSTOP) primary',
      show(f('recovery.pauseRtoSeconds'), ' s'),
      `${show(f('recovery.pauseDetectionSeconds'), ' s')} detection`,
      '',
      goal('recovery.pauseRtoSeconds'),
    ],
    [
      'recovery',
      'detection floor of a hung (SIGSTOP) primary',
      show(f('recovery.pauseDetectionSeconds'), ' s'),
      `${show(f('recovery.detectionSeconds'), ' s')} (SIGKILL)`,
      '',
      '',
    ],
    [
      'recovery',
      'RTO against orchestrator',
      show(f('recovery.rtoSeconds'), ' s'),
      '10–13 s (published)',
      `${show(f('recovery.orchestrator.rtoOverOutageRatio.1'), '×')}–${show(f('recovery.orchestrator.rtoOverOutageRatio.0'), '×')}`,
      '',
    ],
    ...intervals.map((interval, index) => [
      'recovery',
      `RTO at ${interval.scrapeIntervalSeconds} s scrape/evaluation (${interval.rounds} round${interval.rounds === 1 ? '' : 's'})`,
      show(f(`recovery.intervals.${index}.rtoSeconds`), ' s'),
      `${show(f(`recovery.intervals.${index}.detectionSeconds`), ' s')} detection`,
      '',
      '',
    ]),
  ]);
  section('switchover', [
    [
      'switchover',
      `write pause p50 / max (${show(f('switchover.rounds'))} rounds, steady writer)`,
      `${show(f('switchover.action.p50Ms'))} / ${show(f('switchover.action.maxMs'), ' ms')}`,
      `${show(f('switchover.baseline.p50Ms'))} / ${show(f('switchover.baseline.maxMs'), ' ms')} (bare PAUSE + REPLICAOF)`,
      show(f('switchover.ratio'), '×'),
      '',
    ],
    [
      'switchover',
      'the same with protect (min-replicas-to-write 1)',
      `${show(f('switchover.protected.p50Ms'))} / ${show(f('switchover.protected.maxMs'), ' ms')}`,
      '',
      '',
      goal('switchover.protected.maxMs'),
    ],
    [
      'switchover',
      "writer's longest gap between acknowledged writes",
      show(f('switchover.writer.longestGapMs'), ' ms'),
      `${show(f('switchover.writer.writes'))} writes, ${show(f('switchover.writer.acknowledgedMissing'))} acknowledged missing`,
      '',
      '',
    ],
  ]);
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const header = rows[0] ?? [];
  return [
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.slice(1).map(line),
    '',
    `${report.quick ? 'quick' : 'full'} run, ${report.mode}, ${report.machine.cores} × ${report.machine.cpu}, node ${report.machine.node}, redis ${report.machine.redis}; load average ${report.machine.loadAverageAtStart} at start, ${show(report.loadAverageAtEnd)} at end; ${show(report.seconds, ' s')}`,
  ].join('\n');
}
