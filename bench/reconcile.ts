import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createDefaultActions } from '../src/actions/default-actions.js';
import { createAlertIntake } from '../src/alerts/alert-intake.js';
import { createMetrics } from '../src/metrics/create-metrics.js';
import { parsePlaybookSources } from '../src/playbooks/load-playbooks.js';
import { createRemediationQueue } from '../src/queue/remediation-queue.js';
import { createRunInserter } from '../src/queue/run-inserter.js';
import { createAlertSweep } from '../src/reconcile/alert-sweep.js';
import { createAlertmanagerClient } from '../src/reconcile/alertmanager-client.js';
import { createFailbackState } from '../src/state/failback-state.js';
import { freePort } from '../src/util/free-port.js';
import { startAlertmanager } from '../tools/harness/alertmanager.js';
import { startRedis } from '../tools/harness/redis-server.js';
import type { PartOptions } from './support/part.js';
import { median, round } from './support/stats.js';

/** The reconcile loop's Alertmanager sweep against a real Alertmanager holding many firing alerts. */
export interface ReconcileFigures {
  alerts: number;
  /** A bare GET of the same alert list and JSON.parse, nothing else: the floor of any pass (median). */
  readBaselineMs: number;
  /** A pass with nothing new to do (every alert has its run): the cost the loop pays every interval (median). */
  steadyPassMs: number;
  steadyOverReadRatio: number;
  /** The pass that enqueues every alert (their notifications were lost): intake, job ids, one atomic insert. */
  enqueuePassMs: number;
  enqueuedAlertsPerSec: number;
  /** Runs in the queue after the enqueuing pass (equals `alerts`), and after the steady passes (unchanged). */
  runs: number;
  rounds: number;
}

const playbook = `name: note
match: '{alertname="BenchDown"}'
target: '{{ labels.instance }}'
steps:
  - { name: note, action: log, with: { message: 'down {{ labels.instance }}' } }
resolved:
  delay: 1h
  steps:
    - { name: back, action: log, with: { message: 'back {{ labels.instance }}' } }
`;

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/**
 * Posts `alerts` firing alerts to a real Alertmanager (its webhook points at a closed port: every notification is
 * lost), then times the sweep: the pass that first lists them, the one that enqueues them all, and steady passes,
 * each beside a bare read of the same list in the same round. The playbook has a failback, so every steady pass also
 * scans the firing notes the resolutions are looked for in.
 */
export async function benchReconcile(options: PartOptions): Promise<ReconcileFigures> {
  const alerts = options.quick ? 1000 : 5000;
  const rounds = options.quick ? 5 : 10;
  const redis = await startRedis();
  const am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${await freePort()}/webhooks/alertmanager` });
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = createRemediationQueue({ name: `bench-${randomUUID()}`, connection });
  try {
    for (let from = 0; from < alerts; from += 500)
      await am.postAlerts(
        Array.from({ length: Math.min(500, alerts - from) }, (_unused, index) => ({
          labels: { alertname: 'BenchDown', instance: `node-${from + index}` },
        })),
      );
    const actions = createDefaultActions({ smtpUrl: undefined, smtpFrom: 'bench@localhost', prometheusUrl: undefined, path: undefined });
    const loaded = parsePlaybookSources([{ file: 'note.yaml', text: playbook }], actions);
    if (!loaded.success) throw new Error(JSON.stringify(loaded.problems));
    const metrics = createMetrics({ registry: new Registry(), defaultMetrics: false });
    const logger = pino({ level: 'silent' });
    const prefix = `remediator:${queue.name}`;
    const failback = createFailbackState(connection, { prefix, retentionMs: 86_400_000 });
    const intake = createAlertIntake({
      playbooks: loaded.playbooks,
      queue,
      inserter: createRunInserter(connection, queue),
      failback,
      logger,
      metrics,
      retentionMs: 86_400_000,
      dryRun: false,
      timeoutMs: 30_000,
      valueLimits: { labelBytes: 4096, annotationBytes: 16_384, alertBytes: 65_536 },
      redelivery: { keyPrefix: prefix, windowMs: 300_000 },
    });
    const listUrl = `${am.url}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`;
    const read = async () => (await (await fetch(listUrl)).json()) as unknown[];
    const sweep = createAlertSweep({
      alertmanagers: [createAlertmanagerClient({ url: am.url, timeoutMs: 30_000 })],
      intake,
      queue,
      redis: connection,
      prefix,
      warmupMs: 0,
      metrics: metrics.reconcile,
      logger,
    });
    const listed = (await read()).length;
    if (listed !== alerts) throw new Error(`Alertmanager lists ${listed} of the ${alerts} alerts posted`);
    const runCount = async () =>
      Object.values(await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed')).reduce((a, b) => a + b, 0);
    const firstPassMs = await timed(() => sweep.sweep()); // first sighting: nothing is enqueued yet
    const enqueuePassMs = await timed(() => sweep.sweep());
    const enqueued = await runCount();
    options.log(
      `reconcile: ${alerts} alerts: first pass ${round(firstPassMs)} ms, enqueuing pass ${round(enqueuePassMs)} ms (${enqueued} runs)`,
    );
    const samples = { steady: [] as number[], read: [] as number[] };
    for (let round_ = 0; round_ < rounds; round_ += 1) {
      samples.read.push(await timed(read));
      samples.steady.push(await timed(() => sweep.sweep()));
    }
    const runs = await runCount();
    if (runs !== enqueued) throw new Error(`steady passes changed the runs: ${enqueued} → ${runs}`);
    const readBaselineMs = median(samples.read);
    const steadyPassMs = median(samples.steady);
    return {
      alerts,
      readBaselineMs: round(readBaselineMs),
      steadyPassMs: round(steadyPassMs),
      steadyOverReadRatio: round(steadyPassMs / readBaselineMs),
      enqueuePassMs: round(enqueuePassMs),
      enqueuedAlertsPerSec: round(alerts / (enqueuePassMs / 1000), 0),
      runs: enqueued,
      rounds,
    };
  } finally {
    await queue.close();
    connection.disconnect();
    await am.stop();
    await redis.stop();
  }
}
