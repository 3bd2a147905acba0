import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/util/free-port.js';
import { startProcess, type HarnessProcess } from './process.js';
import { startRedis, type RedisServer } from './redis-server.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait.js';

/** One redis-server of the trio. */
export interface SentinelServer {
  readonly port: number;
  /** 127.0.0.1:port */
  readonly address: string;
}

/** Three redis-servers (one primary, two replicas) watched by three redis-sentinels, all on loopback. */
export interface Sentinels {
  readonly masterName: string;
  /** host:port of each sentinel. */
  readonly sentinels: readonly string[];
  /** The data servers; the first one started as the primary. */
  readonly servers: readonly SentinelServer[];
  /**
   * Waits until every sentinel reports the same master and knows at least `replicas` replicas linked to it, so
   * another failover can start.
   */
  settled(replicas?: number): Promise<string>;
  /** A client to a server or sentinel by host:port (closed by `stop`). */
  client(address: string): Redis;
  /** SIGKILLs the data server at host:port, as a crash (its sentinels see it go down). */
  crash(address: string): Promise<void>;
  /** Starts a crashed data server again on its port with its data; resolves once it answers PING. */
  resume(address: string): Promise<void>;
  /** Every process's output, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** What to start; every option has the default the first tests were written against. */
export interface SentinelOptions {
  /** Replicas of the primary (2: three data servers). */
  replicas?: number;
  /** The master name the sentinels monitor ('mymaster'). */
  masterName?: string;
  /** requirepass and masterauth of the data servers, given to the sentinels as auth-pass (none). */
  password?: string;
  /** requirepass of the sentinels, which they also use with one another (none). */
  sentinelPassword?: string;
  /** How long a server must be unreachable before a sentinel calls it down (1000 ms). */
  downAfterMs?: number;
}

/** A one-shot connection that fails fast instead of retrying. */
function probeClient(port: number, password: string | undefined): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    password,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
  });
  client.on('error', () => undefined);
  return client;
}

async function ask<T>(port: number, command: string, args: string[], password?: string): Promise<T> {
  const client = probeClient(port, password);
  try {
    await client.connect();
    return (await client.call(command, args)) as T;
  } finally {
    client.disconnect();
  }
}

/** SENTINEL replicas/sentinels answers: one flat [field, value, …] array per instance. */
function asRecords(reply: unknown): Record<string, string>[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((flat: unknown) => {
    const record: Record<string, string> = {};
    if (Array.isArray(flat)) for (let i = 0; i + 1 < flat.length; i += 2) record[String(flat[i])] = String(flat[i + 1]);
    return record;
  });
}

/**
 * Starts the data servers and three sentinels and waits until every sentinel knows every replica (linked to the
 * primary) and the two other sentinels, so a failover can start at once.
 */
export async function startSentinels(options: SentinelOptions = {}): Promise<Sentinels> {
  const { replicas: replicaCount = 2, masterName = 'mymaster', password, sentinelPassword, downAfterMs = 1000 } = options;
  const dir = await tempDir('remediator-sentinel-');
  const sentinelProcesses: HarnessProcess[] = [];
  const dataServers: RedisServer[] = [];
  const clients: Redis[] = [];
  const stop = async () => {
    for (const client of clients) client.disconnect();
    // Sentinels first, so none of them reacts to the servers going away.
    for (const sentinel of [...sentinelProcesses].reverse()) await sentinel.stop();
    for (const server of [...dataServers].reverse()) await server.stop();
    await dir.remove();
  };
  const output = () =>
    [...dataServers.map((server) => server.process()), ...sentinelProcesses]
      .map((child) => `--- ${child.name}\n${child.output()}`)
      .join('\n');
  try {
    const servers: SentinelServer[] = [];
    for (let i = 0; i < 1 + replicaCount; i++) {
      const port = await freePort();
      const server = await startRedis({
        dir: join(dir.path, `redis-${i}`),
        port,
        name: `redis-${i} (${port})`,
        appendOnly: false,
        ...(password === undefined ? {} : { password }),
        ...(dataServers[0] ? { replicaOf: dataServers[0].port } : {}),
      });
      dataServers.push(server);
      servers.push({ port, address: server.address });
    }
    const primaryPort = servers[0]?.port ?? 0;
    const sentinels: string[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(dir.path, `sentinel-${i}.conf`);
      await writeFile(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'daemonize no',
          `dir ${dir.path}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
          `sentinel failover-timeout ${masterName} 10000`,
          'sentinel resolve-hostnames no',
          ...(password === undefined ? [] : [`sentinel auth-pass ${masterName} ${password}`]),
          ...(sentinelPassword === undefined ? [] : [`requirepass ${sentinelPassword}`]),
          '',
        ].join('\n'),
      );
      sentinelProcesses.push(startProcess('redis-sentinel', [conf], { name: `sentinel-${i} (${port})` }));
      sentinels.push(`127.0.0.1:${port}`);
    }
    const settled = async (replicas = replicaCount): Promise<string> => {
      let master = '';
      await waitFor(
        `every sentinel to agree on the master and know ${replicas} linked replicas and 2 other sentinels`,
        async () => {
          const masters = new Set<string>();
          for (const sentinel of sentinels) {
            const port = Number(sentinel.split(':')[1]);
            const address = await ask<[string, string] | null>(port, 'SENTINEL', ['get-master-addr-by-name', masterName], sentinelPassword);
            if (!address) return false;
            masters.add(`${address[0]}:${address[1]}`);
            const known = asRecords(await ask(port, 'SENTINEL', ['replicas', masterName], sentinelPassword));
            const others = asRecords(await ask(port, 'SENTINEL', ['sentinels', masterName], sentinelPassword));
            const linked = known.filter((replica) => replica.flags === 'slave' && replica['master-link-status'] === 'ok');
            if (linked.length < replicas || others.length !== 2) return false;
          }
          master = [...masters][0] ?? '';
          return masters.size === 1;
        },
        40_000,
        100,
      );
      return master;
    };
    await settled();
    const dataServer = (address: string): RedisServer => {
      const server = dataServers.find((candidate) => candidate.address === address);
      if (!server) throw new Error(`no data server at ${address}`);
      return server;
    };
    return {
      masterName,
      sentinels,
      servers,
      settled,
      client(address) {
        const [host = '127.0.0.1', port = '0'] = address.split(':');
        // Reconnects: sentinel kills the clients of a server it reconfigures (CLIENT KILL TYPE normal).
        const client = new Redis({
          host,
          port: Number(port),
          password: sentinels.includes(address) ? sentinelPassword : password,
          maxRetriesPerRequest: 1,
          retryStrategy: () => 100,
        });
        client.on('error', () => undefined);
        clients.push(client);
        return client;
      },
      async crash(address) {
        await dataServer(address).crash();
      },
      async resume(address) {
        await dataServer(address).resume();
      },
      output,
      stop,
    };
  } catch (error) {
    const text = output();
    await stop();
    throw new Error(`${(error as Error).message}\n${text}`, { cause: error });
  }
}
