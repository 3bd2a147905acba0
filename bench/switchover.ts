import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { createRedisSwitchoverAction } from '../src/actions/redis/switchover-action.js';
import type { Inventory } from '../src/inventory/inventory.js';
import { parseInventorySource } from '../src/inventory/load-inventory.js';
import { infoNumber, parseInfo } from '../src/inventory/redis-info.js';
import { sleep } from '../src/util/sleep.js';
import { startRedis, type RedisServer } from '../tools/harness/redis-server.js';
import { startSteadyWriter } from '../tools/harness/steady-writer.js';
import { waitFor } from '../tools/harness/wait.js';
import { quantile, round } from './support/stats.js';

/** p50 and max of one kind of round, in milliseconds. */
export interface PauseSummary {
  p50Ms: number;
  maxMs: number;
  rounds: number[];
}

/** redis.switchover's write pause on a real 3-member cluster under a steady writer, beside a bare switch. */
export interface SwitchoverFigures {
  rounds: number;
  /** writePauseMs of redis.switchover with `protect: false` (the same work as the baseline). */
  action: PauseSummary;
  /** writePauseMs with the default `protect` (the new primary accepts writes once a replica acknowledged it). */
  protected: PauseSummary;
  /** The bare sequence: CLIENT PAUSE WRITE, offsets equal, REPLICAOF NO ONE, REPLICAOF ×2, CLIENT UNPAUSE. */
  baseline: PauseSummary;
  /** action.p50Ms / baseline.p50Ms. */
  ratio: number;
  /** The steady writer over all the rounds. */
  writer: { writes: number; longestGapMs: number; refusedAndRetried: number; acknowledgedMissing: number };
}

const roundsOf = { quick: 10, full: 30 };
const catchUpPollMs = 5; // as switchover-handover.ts
const logger = pino({ level: 'silent' });

function inventoryOf(servers: readonly RedisServer[]): Inventory {
  const members = servers.map((server, index) => `      - { name: m${index}, address: ${server.address} }`);
  const parsed = parseInventorySource(
    'bench-inventory.yaml',
    `clusters:\n  bench:\n    kind: redis\n    members:\n${members.join('\n')}\n`,
    () => '',
  );
  if (!parsed.success) throw new Error(JSON.stringify(parsed.problems));
  return parsed.inventory;
}

const replication = async (client: Redis) => parseInfo(await client.info('replication'));

/** The bare switch, timed from the pause to the last REPLICAOF: what any switchover has to do at least. */
async function bareSwitch(primary: Redis, candidate: RedisServer, candidateClient: Redis, others: Redis[]): Promise<number> {
  const started = performance.now();
  await primary.call('CLIENT', 'PAUSE', '10000', 'WRITE');
  for (let poll = 0; poll < 2000; poll++) {
    const [head, next] = await Promise.all([replication(primary), replication(candidateClient)]);
    if (infoNumber(next, 'slave_repl_offset') >= infoNumber(head, 'master_repl_offset')) break;
    await sleep(catchUpPollMs);
  }
  await candidateClient.call('REPLICAOF', 'NO', 'ONE');
  await primary.call('REPLICAOF', '127.0.0.1', String(candidate.port));
  await primary.call('CLIENT', 'UNPAUSE');
  for (const other of others) await other.call('REPLICAOF', '127.0.0.1', String(candidate.port));
  return performance.now() - started;
}

/** Until every member but `primary` replicates from it, linked, with all it wrote applied. */
async function settled(primary: number, clients: readonly Redis[], ports: readonly number[]): Promise<void> {
  await waitFor(
    'the cluster to settle',
    async () => {
      const states = await Promise.all(clients.map(replication));
      const head = states[primary];
      if (head?.get('role') !== 'master') return false;
      return states.every(
        (info, index) =>
          index === primary ||
          (info.get('master_port') === String(ports[primary]) &&
            info.get('master_link_status') === 'up' &&
            infoNumber(info, 'slave_repl_offset') >= infoNumber(head, 'master_repl_offset') - 1024),
      );
    },
    20_000,
    20,
  );
}

/**
 * N rounds, each three switchovers in turn (bare, redis.switchover with protect: false, with the default protect),
 * on one primary and two replicas while a steady writer SETs to whichever member is primary. Each switch moves the
 * primary to the next member. At the end every write the writer saw acknowledged must be on the last primary.
 */
export async function benchSwitchover(options: { quick: boolean; log: (line: string) => void }): Promise<SwitchoverFigures> {
  const count = options.quick ? roundsOf.quick : roundsOf.full;
  const first = await startRedis();
  const servers = [first, await startRedis({ replicaOf: first.port }), await startRedis({ replicaOf: first.port })];
  try {
    const clients = servers.map((server) => server.client());
    const ports = servers.map((server) => server.port);
    const action = createRedisSwitchoverAction({ inventory: inventoryOf(servers) });
    let primary = 0;
    await settled(primary, clients, ports);
    const writer = startSteadyWriter(
      servers.map((server, index) => ({ name: `m${index}`, client: server.client() })),
      { prefix: `bench-${randomUUID()}`, maxWrites: 10_000_000, maxMs: 30 * 60_000 },
    );
    const results = { baseline: [] as number[], action: [] as number[], protected: [] as number[] };
    const next = () => (primary + 1) % servers.length;
    const unprotect = () => Promise.all(clients.map((client) => client.call('CONFIG', 'SET', 'min-replicas-to-write', '0')));
    const switchWith = async (protect: boolean) => {
      const output = (await action.run(
        action.schema.parse({ cluster: 'bench', to: `m${next()}`, ...(protect ? {} : { protect: false }) }),
        { logger, signal: new AbortController().signal, runId: randomUUID() },
      )) as { writePauseMs: number };
      return output.writePauseMs;
    };
    for (let index = 0; index < count; index++) {
      await unprotect();
      const to = next();
      const others = clients.filter((_client, at) => at !== primary && at !== to);
      results.baseline.push(await bareSwitch(clients[primary] as Redis, servers[to] as RedisServer, clients[to] as Redis, others));
      primary = to;
      await settled(primary, clients, ports);
      results.action.push(await switchWith(false));
      primary = next();
      await settled(primary, clients, ports);
      results.protected.push(await switchWith(true));
      primary = next();
      await settled(primary, clients, ports);
      options.log(
        `round ${index + 1}/${count}: bare ${round(results.baseline.at(-1) ?? 0, 1)} ms, redis.switchover ${results.action.at(-1)} ms, protected ${results.protected.at(-1)} ms`,
      );
    }
    const report = await writer.stop();
    let acknowledgedMissing = 0;
    for (let at = 0; at < report.acknowledged.length; at += 1000) {
      const keys = report.acknowledged.slice(at, at + 1000);
      const values = await (clients[primary] as Redis).mget(keys);
      acknowledgedMissing += values.filter((value, offset) => value !== String(at + offset)).length;
    }
    const summary = (values: number[]): PauseSummary => ({
      p50Ms: round(quantile(values, 0.5), 1),
      maxMs: round(Math.max(...values), 1),
      rounds: values.map((value) => round(value, 1)),
    });
    const figures = {
      rounds: count,
      action: summary(results.action),
      protected: summary(results.protected),
      baseline: summary(results.baseline),
      ratio: round(quantile(results.action, 0.5) / quantile(results.baseline, 0.5)),
      writer: {
        writes: report.acknowledged.length,
        longestGapMs: report.longestGapMs,
        refusedAndRetried: report.errors,
        acknowledgedMissing,
      },
    };
    if (acknowledgedMissing > 0) throw new Error(`${acknowledgedMissing} acknowledged writes are missing on the last primary`);
    return figures;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}
