import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { findExecutable } from '../src/redis/embedded-redis.js';
import { freePort } from '../src/util/free-port.js';
import { startSentinels } from '../tools/harness/redis-sentinel.js';
import { sourceCommand } from '../tools/harness/remediator-process.js';
import { repoRoot as root } from '../tools/harness/repo-root.js';
import { waitFor } from '../tools/harness/wait.js';
import { findLabPrograms, startLab } from '../tools/lab/lab.js';
import { runDemo, type DemoSummary } from '../tools/lab/run-demo.js';
import { startWriteProbe } from '../tools/lab/write-probe.js';

/**
 * Recovery (RTO) against two baselines measured in the same run, rounds interleaved so that a noisy stretch of
 * the machine hits all three alike:
 * - RTO: the lab (`remediator demo --once`): SIGKILL of the Redis primary → first write accepted by the new one;
 * - detection floor: the same lab topology and Prometheus/Alertmanager configs, with the webhook going to a plain
 *   recorder instead of remediator: SIGKILL → InstanceDown webhook delivered;
 * - Redis Sentinel: three real sentinels watching a primary and two replicas, down-after-milliseconds set to the
 *   same worst-case detection budget: SIGKILL → first write accepted by the new primary (the same 50 ms probe).
 */
export interface RecoveryFigures {
  rounds: number;
  /** Median RTO of remediator's lab, in seconds. */
  rtoSeconds: number;
  /** Median detection floor (fault → InstanceDown webhook at a plain recorder), in seconds. */
  detectionSeconds: number;
  /** Median Sentinel RTO (fault → first write on the primary it promoted), in seconds. */
  sentinelSeconds: number;
  /** rtoSeconds / detectionSeconds (target ≤ 1.5). */
  rtoOverDetectionRatio: number;
  /** rtoSeconds / sentinelSeconds (target ≤ 1.0). */
  rtoOverSentinelRatio: number;
  rtoRounds: number[];
  detectionRounds: number[];
  sentinelRounds: number[];
  /** Fault → webhook received by remediator in the RTO rounds themselves (its own detection), per round. */
  labDetectionRounds: number[];
  /** Webhook received → first step started in the RTO rounds (queue, lease, the four PromQL guards), per round. */
  labDispatchRounds: number[];
  /** Median of rtoRounds − labDetectionRounds: webhook → first write, remediator's own share of the RTO. */
  remediatorActionSeconds: number;
  /** Fault → the first sentinel's +odown (the master objectively down: Sentinel's detection), per round. */
  sentinelDetectionRounds: number[];
  /** Median of sentinelRounds − sentinelDetectionRounds: +odown → first write, Sentinel's failover itself. */
  sentinelActionSeconds: number;
  /** Sentinel's down-after-milliseconds: InstanceDown's `for` plus one scrape and one evaluation interval. */
  sentinelDownAfterMs: number;
  targets: { rtoOverDetectionRatio: number; rtoOverSentinelRatio: number };
}

/** What {@link benchRecovery} takes; `sentinelDownAfterMs` only for sensitivity runs (default 17 s, see below). */
export interface RecoveryOptions {
  quick: boolean;
  log: (line: string) => void;
  sentinelDownAfterMs?: number;
}

const targets = { rtoOverDetectionRatio: 1.5, rtoOverSentinelRatio: 1.0 };
const rounds = { quick: 2, full: 5 };
/**
 * The lab's detection budget in the worst case: a fault just after a scrape shows at the next scrape (≤ 1 s), the
 * rule sees that sample at the next evaluation (≤ 1 s), and InstanceDown fires after `for: 15s` of pending: 17 s.
 * Sentinel gets the same bound as down-after-milliseconds. It spends it differently: a SIGKILLed server drops the
 * sentinels' links at once, so +sdown/+odown come about down-after + 0.2 s after the fault with no sampling delay,
 * where the Prometheus path fires 15 s + 0–2 s after it. At down-after = `for` (15 s) Sentinel would detect about
 * 1 s sooner than Prometheus; at 17 s about 1 s later (`sentinelDownAfterMs` runs either).
 */
const detectionBudgetMs = 15_000 + 1_000 + 1_000;
const probeIntervalMs = 50; // the lab's write probe (tools/lab/write-probe.ts)

/** Runs the three measurements `rounds` times each, interleaved, and reports medians and ratios. */
export async function benchRecovery(options: RecoveryOptions): Promise<RecoveryFigures> {
  const count = options.quick ? rounds.quick : rounds.full;
  const downAfterMs = options.sentinelDownAfterMs ?? detectionBudgetMs;
  const log = options.log;
  const rto: number[] = [];
  const labDetection: number[] = [];
  const labDispatch: number[] = [];
  const detection: number[] = [];
  const sentinel: number[] = [];
  const sentinelDetection: number[] = [];
  const exitGuard = killDescendantsOnExit();
  try {
    for (let round = 1; round <= count; round++) {
      const tag = `[recovery ${round}/${count}]`;
      const lab = await rtoRound((line) => {
        log(`${tag} rto: ${line.trim()}`);
      });
      rto.push(lab.rtoSeconds);
      labDetection.push(lab.detectionSeconds);
      labDispatch.push(lab.dispatchSeconds);
      log(
        `${tag} RTO ${lab.rtoSeconds.toFixed(2)} s (webhook received at ${lab.detectionSeconds.toFixed(2)} s, first step ${lab.dispatchSeconds.toFixed(3)} s later)`,
      );
      const floor = await detectionRound((line) => {
        log(`${tag} detection: ${line}`);
      });
      detection.push(floor);
      log(`${tag} detection floor ${floor.toFixed(2)} s`);
      const failover = await sentinelRound(downAfterMs, (line) => {
        log(`${tag} sentinel: ${line}`);
      });
      sentinel.push(failover.rtoSeconds);
      sentinelDetection.push(failover.odownSeconds);
      log(`${tag} Sentinel ${failover.rtoSeconds.toFixed(2)} s (+odown at ${failover.odownSeconds.toFixed(2)} s)`);
    }
  } finally {
    exitGuard.dispose();
  }
  const rtoSeconds = median(rto);
  const detectionSeconds = median(detection);
  const sentinelSeconds = median(sentinel);
  return {
    rounds: count,
    rtoSeconds,
    detectionSeconds,
    sentinelSeconds,
    rtoOverDetectionRatio: round3(rtoSeconds / detectionSeconds),
    rtoOverSentinelRatio: round3(rtoSeconds / sentinelSeconds),
    rtoRounds: rto,
    detectionRounds: detection,
    sentinelRounds: sentinel,
    labDetectionRounds: labDetection,
    labDispatchRounds: labDispatch,
    remediatorActionSeconds: median(rto.map((value, index) => round3(value - (labDetection[index] ?? Number.NaN)))),
    sentinelDetectionRounds: sentinelDetection,
    sentinelActionSeconds: median(sentinel.map((value, index) => round3(value - (sentinelDetection[index] ?? Number.NaN)))),
    sentinelDownAfterMs: downAfterMs,
    targets,
  };
}

/** One live lab (`remediator demo --once`), which stops everything it started before it returns or throws. */
async function rtoRound(log: (line: string) => void): Promise<{ rtoSeconds: number; detectionSeconds: number; dispatchSeconds: number }> {
  let summary: DemoSummary | undefined;
  await runDemo({
    root,
    // remediator itself, run through tsx from the source (the bench is run that way too).
    self: sourceCommand(),
    once: true,
    dryRun: false,
    log,
    stopRequested: Promise.resolve(),
    report: (reported) => {
      summary = reported;
    },
  });
  if (summary?.mode !== 'live') throw new Error('the lab reported no live recovery');
  if (summary.failoverRuns !== 1 || !summary.newPrimaryAcceptsWrites) {
    throw new Error(
      `the lab's failover is not one clean run: ${summary.failoverRuns} runs, new primary accepts writes: ${String(summary.newPrimaryAcceptsWrites)}`,
    );
  }
  return {
    rtoSeconds: round3(summary.rtoSeconds),
    detectionSeconds: round3(summary.detectionSeconds),
    dispatchSeconds: round3(summary.dispatchSeconds),
  };
}

/**
 * The detection floor: the lab's topology (tools/lab/lab.ts: a password-protected primary and two replicas,
 * `remediator exporter`, Prometheus and Alertmanager configured from prometheus/ and rules/, and the background
 * stream cluster, so the exporter probes the same inventory and the machine carries the same load) with
 * Alertmanager's webhook going to a recorder that only notes when InstanceDown for the primary arrives. The
 * recorder also stands in for remediator's scrape target (an empty /metrics), so Prometheus has the same jobs. The
 * readiness checks before the fault are the lab's.
 */
async function detectionRound(log: (line: string) => void): Promise<number> {
  const found = await findLabPrograms();
  if (!found.found)
    throw new Error(
      `missing ${found.missingPackages.join(', ')}: run \`npm run bootstrap\` as root, or apt-get install --no-install-recommends ${found.missingPackages.join(' ')}`,
    );
  const arrivals: { at: number; firing: boolean }[] = [];
  const recorder = await startRecorder(arrivals);
  try {
    const lab = await startLab({
      programs: found.programs,
      root,
      self: sourceCommand(),
      prefix: 'remediator-bench-detection-',
      log,
      receiver: { name: 'the recorder', port: recorder.port, start: () => Promise.resolve() },
    });
    try {
      log('waiting for the exporter, Prometheus and Alertmanager…');
      await lab.ready();
      const faultAt = Date.now();
      log('FAULT: SIGKILL of the primary');
      await lab.crash('cache-a');
      const webhookAt = await lab.waitFor(
        'the InstanceDown webhook for the primary',
        () => arrivals.find((arrival) => arrival.firing && arrival.at > faultAt)?.at,
        60_000,
        10,
      );
      return round3((webhookAt - faultAt) / 1000);
    } finally {
      await lab.stop();
    }
  } finally {
    await recorder.close();
  }
}

/** The recorder: Alertmanager's webhook receiver and remediator's stand-in scrape target, on a free port. */
async function startRecorder(arrivals: { at: number; firing: boolean }[]): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/webhooks/alertmanager') {
        const at = Date.now();
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            alerts?: { status?: string; labels?: Record<string, string> }[];
          };
          for (const alert of body.alerts ?? []) {
            if (alert.labels?.alertname === 'InstanceDown' && alert.labels.instance === 'cache-a')
              arrivals.push({ at, firing: alert.status === 'firing' });
          }
        } catch {
          // not an Alertmanager payload: not what is measured
        }
        response.writeHead(200).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(request.url === '/metrics' ? '' : 'ok');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve();
    });
  });
  return {
    port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

/**
 * Redis Sentinel on the same topology: a password-protected primary and two replicas, three sentinels with
 * quorum 2, `down-after-milliseconds` as given and `failover-timeout` 10 s (tools/harness/redis-sentinel.ts).
 * The write probe is the lab's: every 50 ms a SET on every data server, the first one accepted after the fault by
 * a server other than the killed one is the recovery. Each sentinel's events are followed for the +odown time.
 */
async function sentinelRound(downAfterMs: number, log: (line: string) => void): Promise<{ rtoSeconds: number; odownSeconds: number }> {
  await requireExecutable('redis-sentinel');
  const password = randomBytes(12).toString('hex');
  log(`starting 3 redis-servers and 3 sentinels (down-after-milliseconds ${downAfterMs})…`);
  const lab = await startSentinels({ password, downAfterMs });
  // Sentinel closes every client of the replica it promotes (CLIENT KILL TYPE normal, in the same MULTI as SLAVEOF
  // NO ONE), which the lab's failover never does, so these clients reconnect after 50 ms rather than the lab's
  // 200 ms: otherwise the probe's own back-off would be charged to Sentinel.
  const clients = lab.servers.map((server) => {
    const client = new Redis({
      host: '127.0.0.1',
      port: server.port,
      password,
      lazyConnect: true,
      connectTimeout: 300,
      commandTimeout: 300,
      maxRetriesPerRequest: 0,
      retryStrategy: () => probeIntervalMs,
      enableOfflineQueue: false,
    });
    client.on('error', () => undefined);
    return { name: server.address, client };
  });
  const probe = startWriteProbe(clients, { key: 'remediator:bench:probe', intervalMs: probeIntervalMs });
  const firstWriteAfter = (name: string, after: number) => probe.writesAfter(name, after)[0];
  try {
    const odown: number[] = [];
    for (const address of lab.sentinels) {
      const events = lab.client(address);
      events.on('pmessage', (_pattern: string, channel: string, message: string) => {
        if (channel === '+odown' && message.startsWith(`master ${lab.masterName} `)) odown.push(Date.now());
      });
      await events.psubscribe('+odown');
    }
    const [primary, ...replicas] = lab.servers;
    if (!primary) throw new Error('the sentinel lab has no primary');
    await waitFor('the write probe to reach the primary', () => firstWriteAfter(primary.address, 0), 10_000, 10);

    const faultAt = Date.now();
    log('FAULT: SIGKILL of the primary');
    await lab.crash(primary.address);
    const firstWrite = await waitFor(
      'a new primary to accept a write',
      () => {
        const writes = replicas.map((server) => firstWriteAfter(server.address, faultAt)).filter((at) => at !== undefined);
        return writes.length > 0 ? Math.min(...writes) : undefined;
      },
      downAfterMs + 30_000,
      probeIntervalMs,
    );
    const odownAt = odown.length > 0 ? Math.min(...odown) : Number.NaN;
    return { rtoSeconds: round3((firstWrite - faultAt) / 1000), odownSeconds: round3((odownAt - faultAt) / 1000) };
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${lab.output().slice(-4000)}`, { cause: error });
  } finally {
    await probe.stop();
    for (const { client } of clients) client.disconnect();
    await lab.stop();
  }
}

/**
 * The labs stop every process they start, on errors too, but an exit of the bench in the middle of a round (Ctrl-C:
 * bench/run.ts calls process.exit) runs no `finally`. Until disposed, this SIGKILLs every descendant of the bench
 * on exit: the labs' servers are detached into their own process groups, and remediator's embedded Redis is a
 * grandchild, so none of them would die with the bench. Linux (/proc) only; elsewhere it does nothing.
 */
function killDescendantsOnExit(): { dispose: () => void } {
  const onExit = () => {
    const children = new Map<number, number[]>();
    let entries: string[];
    try {
      entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
    } catch {
      return;
    }
    for (const entry of entries) {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
      } catch {
        // gone meanwhile
      }
    }
    const pending = [...(children.get(process.pid) ?? [])];
    for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
      pending.push(...(children.get(pid) ?? []));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', onExit);
  return {
    dispose: () => {
      process.off('exit', onExit);
    },
  };
}

async function requireExecutable(name: string): Promise<string> {
  const path = await findExecutable(name);
  if (path === undefined)
    throw new Error(
      `missing ${name}: run \`npm run bootstrap\` as root, or apt-get install --no-install-recommends redis-server redis-sentinel prometheus prometheus-alertmanager`,
    );
  return path;
}

/** The median (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  const value =
    sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
  return round3(value);
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
