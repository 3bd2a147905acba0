import { createConnection } from 'node:net';
import { splitAddress } from '../../inventory/inventory.js';
import { parseInfo } from '../../inventory/redis-info.js';
import { withTimeout } from '../../util/with-timeout.js';
import type { DeathObserver } from '../confirm/confirm-death.js';
import type { WitnessObservation } from '../confirm/death-verdict.js';
import { defaultPingPeriodSeconds, pingPeriodOf, replicaWitness } from './witness.js';
import type { PrimaryProbe } from '../confirm/death-verdict.js';
import { isConnectionRefused } from '../confirm/refused.js';

/** A server remediator can ask one command: a name for the record and a call that may hang (it is bounded here). */
export interface RedisEndpoint {
  name: string;
  call(command: string, ...args: string[]): Promise<unknown>;
}

/**
 * Sends PING on a fresh TCP connection to `address` and waits at most `timeoutMs`, connection included, for a
 * reply line. Any Redis reply (+PONG, -NOAUTH, -LOADING) proves the server's event loop runs: no credentials are
 * needed to tell alive from dead. A stopped process completes the handshake from its listen backlog but never
 * answers, so only the reply counts.
 */
export function pingOnce(address: string, timeoutMs: number): Promise<PrimaryProbe> {
  const { host, port } = splitAddress(address);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let reply = '';
    let settled = false;
    const finish = (answered: boolean, detail: string, refused = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ answered, detail, ...(refused ? { refused } : {}) });
    };
    const timer = setTimeout(() => {
      finish(false, socket.connecting ? `no connection within ${timeoutMs} ms` : `connected, no answer within ${timeoutMs} ms`);
    }, timeoutMs);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      const end = reply.indexOf('\r\n');
      if (end < 0 && reply.length < 512) return;
      const line = reply.slice(0, end < 0 ? 80 : Math.min(end, 80));
      if (line.startsWith('+') || line.startsWith('-')) finish(true, `answered ${line} in ${Date.now() - started} ms`);
      else finish(false, 'something that is not Redis answered');
    });
    socket.on('error', (error) => {
      finish(false, error.message, isConnectionRefused(error));
    });
    socket.on('close', () => {
      finish(false, 'connection closed without an answer');
    });
  });
}

/** Asks `endpoint` for INFO replication (and, once, its ping period) within `timeoutMs`; never throws. */
async function askReplica(
  endpoint: RedisEndpoint,
  primary: string,
  timeoutMs: number,
  pingPeriods: Map<string, number>,
): Promise<WitnessObservation> {
  try {
    const known = pingPeriods.get(endpoint.name);
    const [info, period] = await Promise.all([
      withTimeout(endpoint.call('INFO', 'replication'), timeoutMs),
      known ??
        // CONFIG may be renamed or refused by ACL: Redis's default then, which only makes a silent primary count later.
        withTimeout(endpoint.call('CONFIG', 'GET', 'repl-ping-replica-period'), timeoutMs).then(
          (reply) => pingPeriodOf(reply) ?? defaultPingPeriodSeconds,
          () => defaultPingPeriodSeconds,
        ),
    ]);
    pingPeriods.set(endpoint.name, period);
    return replicaWitness(endpoint.name, primary, parseInfo(String(info)), period);
  } catch (error) {
    return { member: endpoint.name, answered: false, follows: false, lost: false, detail: (error as Error).message };
  }
}

/**
 * The DeathObserver of a Redis primary at `primary.address`: remediator PINGs it on a fresh connection, and asks
 * every other server (`replicas`) for INFO replication, each within `probeTimeout`.
 */
export function createRedisDeathObserver(options: {
  primary: { name: string; address: string };
  replicas: readonly RedisEndpoint[];
  probeTimeout: number;
}): DeathObserver {
  const pingPeriods = new Map<string, number>();
  return {
    primary: options.primary.name,
    probePrimary: () => pingOnce(options.primary.address, options.probeTimeout),
    askWitnesses: () =>
      Promise.all(options.replicas.map((endpoint) => askReplica(endpoint, options.primary.address, options.probeTimeout, pingPeriods))),
  };
}
