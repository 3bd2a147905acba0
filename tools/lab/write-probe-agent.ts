// The lab's client: the write probe (write-probe.ts) as a process of its own, so that in the partition lab it runs
// in the client's namespace and sees the cluster as an application would. It prints one JSON line per round in
// which some member accepted the write ({"round","startedAt","accepted":{member: ms}}) and stops on SIGTERM.
//   WRITE_PROBE_CONFIG='{"members":[{"name","host","port"}],"key","intervalMs","timeoutMs"}' REDIS_PASSWORD=… \
//     node --import tsx tools/lab/write-probe-agent.ts
import { Redis } from 'ioredis';
import { z } from 'zod';
import { startWriteProbe } from './write-probe.js';

const configSchema = z.strictObject({
  members: z.array(z.strictObject({ name: z.string().min(1), host: z.string().min(1), port: z.number().int().min(1).max(65_535) })).min(1),
  key: z.string().min(1),
  intervalMs: z.number().int().min(1).default(50),
  /** Connect and command timeout: a hung member counts as refusing. */
  timeoutMs: z.number().int().min(1).default(300),
});

const config = configSchema.parse(JSON.parse(process.env.WRITE_PROBE_CONFIG ?? '{}'));
const password = process.env.REDIS_PASSWORD;

const connect = (host: string, port: number) => {
  const client = new Redis({
    host,
    port,
    ...(password === undefined ? {} : { password }),
    lazyConnect: true,
    connectTimeout: config.timeoutMs,
    commandTimeout: config.timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 200,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  return client;
};

const probe = startWriteProbe(
  config.members.map(({ name, host, port }) => ({ name, client: connect(host, port), reconnect: () => connect(host, port) })),
  {
    key: config.key,
    intervalMs: config.intervalMs,
    onRound: (round) => process.stdout.write(`${JSON.stringify(round)}\n`),
  },
);
process.stdout.write(`${JSON.stringify({ started: Date.now() })}\n`);
process.once('SIGTERM', () => {
  void probe.stop().then(() => process.exit(0));
});
