import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWebhookFeed, type WebhookFeed } from './support/alerts.js';
import { runLoad, type LoadResult } from './support/load.js';
import { startBaselineServer } from './support/baselines.js';
import { startRedis } from '../tools/harness/redis-server.js';
import { cpuSecondsOf } from './support/process-stats.js';
import { benchToken, startRemediator } from './support/remediator.js';
import type { PartOptions } from './support/part.js';
import { paced } from './support/pace.js';
import { median, round, summarize, type LatencySummary } from './support/stats.js';

/** Intake figures: remediator's webhook against the bare express + queue.add baseline, medians over rounds. */
export interface IntakeFigures {
  /** Median over rounds of remediator req/s ÷ baseline req/s in the same round. */
  ratio: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  baseline: { reqPerSec: number; p50Ms: number; p99Ms: number; cpuMsPerRequest: number };
  /** CPU time (user + system) of the server process per answered request: less sensitive to a busy machine. */
  cpuMsPerRequest: number;
  /** cpuMsPerRequest ÷ the baseline's (median over rounds). */
  cpuOverBaselineRatio: number;
  /** Webhook alerts per second remediator validated, matched and enqueued (median). */
  alertsPerSec: number;
  rounds: number;
  secondsPerRun: number;
  connections: number;
  /** Every round: remediator and baseline side by side. */
  perRound: { ratio: number; remediator: RunFigures; baseline: RunFigures }[];
  feed: { bodies: number; redeliveredBodies: number; alerts: number; newAlerts: number };
  /**
   * Latency at a steady offered rate (open loop, one request every 1/rate s): with as-fast-as-possible load, latency
   * is mostly time queued behind the other 49 connections (Little's law), so this shows the service time.
   */
  atRate: { ratePerSec: number; p50Ms: number; p99Ms: number; baseline: { p50Ms: number; p99Ms: number } };
  /** With --profile: the remediator CPU profile written during the load. */
  cpuProfile?: string;
}

interface RunFigures {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  cpuMsPerRequest: number;
}

const connections = 50;
/** The steady rate of the latency runs: 200 webhooks/s is about 2,500 alerts/s. */
const steadyRate = 200;
const path = '/webhooks/alertmanager';

function figures(result: LoadResult & { cpuSeconds: number }): RunFigures {
  return {
    reqPerSec: round(result.reqPerSec, 0),
    p50Ms: round(result.p50Ms),
    p99Ms: round(result.p99Ms),
    requests: result.requests,
    cpuMsPerRequest: round((result.cpuSeconds * 1000) / Math.max(1, result.requests), 3),
  };
}

/**
 * Loads remediator's webhook (`serve --no-worker`, the repository's playbooks, WEBHOOK_TOKEN set) and the
 * baseline with 50 connections, alternating which goes first in each round so drift hits both alike.
 */
export async function benchIntake(options: PartOptions & { cpuProfDir?: string }): Promise<IntakeFigures> {
  const rounds = options.quick ? 3 : 5;
  const seconds = options.quick ? 4 : 10;
  const warmupSeconds = options.quick ? 2 : 4;
  const steadySeconds = options.quick ? 3 : 6;
  const redis = await startRedis();
  const logDir = await mkdtemp(join(tmpdir(), 'remediator-bench-intake-'));
  const cleanup: (() => Promise<void>)[] = [async () => redis.stop(), async () => rm(logDir, { recursive: true, force: true })];
  try {
    const remediator = await startRemediator({
      redisUrl: redis.url,
      args: ['--no-worker'],
      queueName: 'intake',
      entry: options.entrypoints.remediator,
      ...(options.cpuProfDir === undefined ? {} : { cpuProfDir: options.cpuProfDir }),
    });
    cleanup.unshift(async () => remediator.close());
    const baseline = await startBaselineServer({
      redisUrl: redis.url,
      queueName: 'intake-baseline',
      logDir,
      entry: options.entrypoints.baselineServer,
    });
    cleanup.unshift(async () => baseline.process.stop());

    // The same seed: both servers receive the same sequence of bodies.
    const feeds: Record<'remediator' | 'baseline', WebhookFeed> = {
      remediator: createWebhookFeed({ seed: 7 }),
      baseline: createWebhookFeed({ seed: 7 }),
    };
    const targets = {
      remediator: { url: remediator.url, headers: { authorization: `Bearer ${benchToken}` } },
      baseline: { url: baseline.url, headers: { authorization: `Bearer ${benchToken}` } },
    };
    const servers = { remediator, baseline: baseline.process };
    const load = async (name: 'remediator' | 'baseline', runSeconds: number) => {
      const feed = feeds[name];
      const cpuBefore = await cpuSecondsOf(servers[name].pid);
      const result = await runLoad({
        url: targets[name].url,
        path,
        connections,
        seconds: runSeconds,
        nextBody: () => feed.next(),
        headers: targets[name].headers,
        expectStatus: 202,
      });
      if (result.unexpected > 0) {
        const tail = name === 'remediator' ? remediator.tail(5) : baseline.process.tail(5);
        throw new Error(`${name}: ${result.unexpected} answers were not 202 (${JSON.stringify(result.statuses)}):\n${tail}`);
      }
      return { ...result, cpuSeconds: (await cpuSecondsOf(servers[name].pid)) - cpuBefore };
    };

    options.log(`intake: warm-up ${warmupSeconds} s each`);
    await load('baseline', warmupSeconds);
    await load('remediator', warmupSeconds);
    const perRound: IntakeFigures['perRound'] = [];
    for (let index = 0; index < rounds; index += 1) {
      const order: ('remediator' | 'baseline')[] = index % 2 === 0 ? ['baseline', 'remediator'] : ['remediator', 'baseline'];
      const results: Partial<Record<'remediator' | 'baseline', LoadResult & { cpuSeconds: number }>> = {};
      for (const name of order) results[name] = await load(name, seconds);
      const ours = results.remediator;
      const theirs = results.baseline;
      if (!ours || !theirs) throw new Error('a load run is missing');
      const round_ = { ratio: round(ours.reqPerSec / theirs.reqPerSec, 3), remediator: figures(ours), baseline: figures(theirs) };
      const cpuRatio = round(round_.remediator.cpuMsPerRequest / round_.baseline.cpuMsPerRequest, 2);
      perRound.push(round_);
      options.log(
        `intake round ${index + 1}/${rounds}: remediator ${round_.remediator.reqPerSec} req/s p50 ${round_.remediator.p50Ms} ms p99 ${round_.remediator.p99Ms} ms | baseline ${round_.baseline.reqPerSec} req/s p50 ${round_.baseline.p50Ms} ms p99 ${round_.baseline.p99Ms} ms | ratio ${round_.ratio} | CPU per request ${round_.remediator.cpuMsPerRequest} vs ${round_.baseline.cpuMsPerRequest} ms (${cpuRatio}×)`,
      );
    }
    // Paced here, one request every 1/rate s: autocannon's own rate limit sends each second's budget in a burst.
    const steadyLoad = async (name: 'remediator' | 'baseline'): Promise<LatencySummary> => {
      const feed = feeds[name];
      const latencies: number[] = [];
      await paced(steadyRate * steadySeconds, steadyRate, async () => {
        const body = feed.next();
        const started = performance.now();
        const response = await fetch(`${targets[name].url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...targets[name].headers },
          body,
        });
        await response.arrayBuffer();
        if (response.status !== 202) throw new Error(`${name} answered ${response.status} at ${steadyRate} webhooks/s`);
        latencies.push(performance.now() - started);
      });
      return summarize(latencies);
    };
    const steady: { remediator: LatencySummary; baseline: LatencySummary }[] = [];
    for (let index = 0; index < rounds; index += 1) {
      const remediatorRun = await steadyLoad('remediator');
      const baselineRun = await steadyLoad('baseline');
      steady.push({ remediator: remediatorRun, baseline: baselineRun });
      options.log(
        `intake at ${steadyRate} webhooks/s, round ${index + 1}/${rounds}: remediator p50 ${round(remediatorRun.p50Ms)} ms p99 ${round(remediatorRun.p99Ms)} ms | baseline p50 ${round(baselineRun.p50Ms)} ms p99 ${round(baselineRun.p99Ms)} ms`,
      );
    }
    const atRate = {
      ratePerSec: steadyRate,
      p50Ms: round(median(steady.map((entry) => entry.remediator.p50Ms))),
      p99Ms: round(median(steady.map((entry) => entry.remediator.p99Ms))),
      baseline: {
        p50Ms: round(median(steady.map((entry) => entry.baseline.p50Ms))),
        p99Ms: round(median(steady.map((entry) => entry.baseline.p99Ms))),
      },
    };
    const med = (pick: (entry: (typeof perRound)[number]) => number) => median(perRound.map(pick));
    const feed = feeds.remediator.stats;
    let cpuProfile: string | undefined;
    if (options.cpuProfDir !== undefined) {
      await remediator.stop(15_000); // the profile is written when the process exits
      // The main thread's profile is the largest (tsx's loader thread writes one too).
      const dir = options.cpuProfDir;
      const written = await Promise.all(
        (await readdir(dir))
          .filter((name) => name.endsWith('.cpuprofile'))
          .map(async (name) => ({ path: join(dir, name), size: (await stat(join(dir, name))).size })),
      );
      cpuProfile = written.sort((a, b) => b.size - a.size)[0]?.path;
    }
    const reqPerSec = med((entry) => entry.remediator.reqPerSec);
    return {
      ratio: round(
        med((entry) => entry.ratio),
        3,
      ),
      reqPerSec: round(reqPerSec, 0),
      p50Ms: round(med((entry) => entry.remediator.p50Ms)),
      p99Ms: round(med((entry) => entry.remediator.p99Ms)),
      baseline: {
        reqPerSec: round(
          med((entry) => entry.baseline.reqPerSec),
          0,
        ),
        p50Ms: round(med((entry) => entry.baseline.p50Ms)),
        p99Ms: round(med((entry) => entry.baseline.p99Ms)),
        cpuMsPerRequest: round(
          med((entry) => entry.baseline.cpuMsPerRequest),
          3,
        ),
      },
      cpuMsPerRequest: round(
        med((entry) => entry.remediator.cpuMsPerRequest),
        3,
      ),
      cpuOverBaselineRatio: round(
        med((entry) => entry.remediator.cpuMsPerRequest / entry.baseline.cpuMsPerRequest),
        2,
      ),
      alertsPerSec: round(reqPerSec * (feed.alerts / Math.max(1, feed.bodies)), 0),
      atRate,
      rounds,
      secondsPerRun: seconds,
      connections,
      perRound,
      feed: { ...feed },
      ...(cpuProfile === undefined ? {} : { cpuProfile }),
    };
  } finally {
    for (const step of cleanup)
      await step().catch((error: unknown) => {
        options.log(`intake cleanup: ${String(error)}`);
      });
  }
}
