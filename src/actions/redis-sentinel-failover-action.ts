import { Redis } from 'ioredis';
import { z } from 'zod';
import { isAppError } from '../core/errors/index.js';
import { addressSchema } from '../inventory/inventory-schema.js';
import { splitAddress } from '../inventory/inventory.js';
import { durationSchema } from '../core/duration.js';
import { sleep } from '../util/sleep.js';
import { createLocalRunMemory, type RunMemory } from '../state/run-memory.js';
import { defineAction, permanentError, transientError } from '../core/action.js';

/*
 * No credentials in this version: sentinels and data servers are reached without AUTH or TLS. A server that asks
 * for a password (NOAUTH) is a permanent error that says so, not a retry loop.
 */
const sentinelFailoverSchema = z.strictObject({
  /** host:port of each sentinel watching the master; the first reachable one is asked to fail over. */
  sentinels: z
    .array(addressSchema)
    .min(1, 'needs at least one sentinel')
    // A sentinel listed twice would count twice towards the majority that must agree on the new master.
    .refine((sentinels) => new Set(sentinels).size === sentinels.length, 'list each sentinel once'),
  masterName: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . and - only (a sentinel master name)'),
  /** How long the whole failover may take, until a majority of the sentinels agree on the new master. */
  timeout: durationSchema.refine((ms) => ms > 0, 'must be more than 0').default(30_000),
});

/** The longest a single connect or command may take (less when the action's own timeout is nearer). */
const callTimeoutMs = 5000;
const pollIntervalMs = 250;

/** `work`, or a CallTimeout after `ms`, or the abort reason as soon as `signal` fires. */
function bounded<T>(work: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    // Settled here or not, a late rejection of `work` must not go unhandled.
    work.catch(() => undefined);
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** An error reply from the server (as opposed to a connection problem). */
function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

function isNoAuth(error: Error): boolean {
  return /^(NOAUTH|WRONGPASS)/.test(error.message);
}

function noAuthError(address: string, error: Error): Error {
  return permanentError(`${address} requires a password (${error.message}); redis.sentinel-failover connects without credentials in this version`, error);
}

/** host:port from a get-master-addr-by-name reply ([ip, port]); undefined for a nil reply (unknown master). */
function masterAddressOf(reply: unknown, sentinel: string): string | undefined {
  if (reply === null) return undefined;
  if (Array.isArray(reply) && reply.length === 2) {
    const [host, port] = reply.map(String) as [string, string];
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  }
  throw transientError(`sentinel ${sentinel} gave an unexpected get-master-addr-by-name answer: ${JSON.stringify(reply)}`);
}

/** One short-lived connection per server, no reconnects and no offline queue: a failed call fails at once. */
class Connections {
  private readonly clients = new Map<string, Redis>();

  constructor(private readonly signal: AbortSignal) {}

  /** The last connection error per server: ioredis rejects a failed connect with a bare "Connection is closed.". */
  private readonly lastErrors = new Map<string, Error>();

  async call(address: string, timeoutMs: number, command: string, ...args: string[]): Promise<unknown> {
    this.signal.throwIfAborted();
    let client = this.clients.get(address);
    if (!client) {
      const { host, port } = splitAddress(address);
      client = new Redis({
        host,
        port,
        lazyConnect: true,
        enableReadyCheck: false,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectTimeout: callTimeoutMs,
      });
      client.on('error', (error: Error) => this.lastErrors.set(address, error)); // reported through the failing call
      this.clients.set(address, client);
    }
    const connected = client;
    try {
      return await bounded(
        (async () => {
          if (connected.status === 'wait') await connected.connect();
          return connected.call(command, args);
        })(),
        Math.max(1, Math.min(callTimeoutMs, timeoutMs)),
        this.signal,
      );
    } catch (error) {
      // A reply error leaves the connection usable; anything else means starting afresh next time.
      if (isReplyError(error) || this.signal.aborted) throw error;
      connected.disconnect();
      this.clients.delete(address);
      const cause = this.lastErrors.get(address);
      this.lastErrors.delete(address);
      throw cause && error instanceof Error && error.message === 'Connection is closed.' ? cause : error;
    }
  }

  close(): void {
    for (const client of this.clients.values()) client.disconnect();
    this.clients.clear();
  }
}

/**
 * Forces a Redis Sentinel failover and waits until it is done: the sentinels report a new master, that server
 * says it is a master (ROLE), and a majority of the given sentinels agree on it.
 *
 * A retried run (after a transient error or a crash, in any process) must wait for the failover it already
 * started, not start a second one that may move the master back: `memory` (remediator's Redis) remembers, per
 * run and master, which master the run moved away from.
 */
export function createRedisSentinelFailoverAction(options: { memory?: RunMemory } = {}) {
  const memory = options.memory ?? createLocalRunMemory();
  return defineAction({
    name: 'redis.sentinel-failover',
    description: 'Force a Redis Sentinel failover and wait until a majority of the sentinels report the new master.',
    schema: sentinelFailoverSchema,
    defaultTimeoutMs: 60_000,
    async run(params, { signal, logger, runId }) {
      const deadline = Date.now() + params.timeout;
      const remaining = () => deadline - Date.now();
      const name = params.masterName;
      const memoKey = `sentinel-failover:${runId}:${name}:${[...params.sentinels].sort().join(',')}`;
      const connections = new Connections(signal);
      try {
        // 1. The first reachable sentinel names the current master and is asked to fail over.
        const unreachable: string[] = [];
        let previous: string | undefined;
        for (const sentinel of params.sentinels) {
          let current: string | undefined;
          try {
            current = masterAddressOf(await connections.call(sentinel, remaining(), 'SENTINEL', 'get-master-addr-by-name', name), sentinel);
          } catch (error) {
            if (signal.aborted || isAppError(error)) throw error;
            if (isReplyError(error)) {
              if (isNoAuth(error)) throw noAuthError(`sentinel ${sentinel}`, error);
              throw permanentError(`sentinel ${sentinel} refused get-master-addr-by-name: ${error.message}`, error);
            }
            unreachable.push(`${sentinel}: ${(error as Error).message}`);
            continue;
          }
          if (current === undefined) throw permanentError(`sentinel ${sentinel} monitors no master named "${name}"`);
          const accepted = await memory.get(memoKey);
          if (accepted !== undefined && accepted !== current) {
            logger.info({ masterName: name, previous: accepted, current }, 'redis.sentinel-failover: this run already failed over, confirming it');
            previous = accepted;
            break;
          }
          previous = current;
          try {
            await connections.call(sentinel, remaining(), 'SENTINEL', 'FAILOVER', name);
            logger.info({ masterName: name, previous, sentinel }, 'redis.sentinel-failover: failover started');
          } catch (error) {
            if (signal.aborted) throw error;
            if (!isReplyError(error)) {
              // The command may or may not have arrived: asking another sentinel could start a second failover.
              throw transientError(`sentinel ${sentinel} failed during SENTINEL FAILOVER ${name}: ${(error as Error).message}`, error);
            }
            if (error.message.startsWith('INPROG')) {
              logger.info({ masterName: name, previous, sentinel }, 'redis.sentinel-failover: a failover is already in progress, waiting for it');
            } else if (error.message.startsWith('NOGOODSLAVE')) {
              throw permanentError(`sentinel ${sentinel} has no good replica to promote for "${name}": ${error.message}`, error);
            } else if (isNoAuth(error)) {
              throw noAuthError(`sentinel ${sentinel}`, error);
            } else {
              throw permanentError(`sentinel ${sentinel} refused SENTINEL FAILOVER ${name}: ${error.message}`, error);
            }
          }
          await memory.set(memoKey, previous, 86_400_000);
          break;
        }
        if (previous === undefined) throw transientError(`no sentinel reachable for "${name}": ${unreachable.join('; ')}`);

        // 2. Poll until the sentinels report another master, it answers ROLE as master, and a majority agrees.
        const majority = Math.floor(params.sentinels.length / 2) + 1;
        let lastProblem: string;
        for (;;) {
          const reports = await Promise.all(
            params.sentinels.map(async (sentinel) => {
              try {
                return masterAddressOf(await connections.call(sentinel, remaining(), 'SENTINEL', 'get-master-addr-by-name', name), sentinel);
              } catch (error) {
                if (signal.aborted) throw error;
                return undefined; // unreachable or confused: it just does not count towards the majority
              }
            }),
          );
          const votes = new Map<string, number>();
          for (const report of reports) if (report !== undefined && report !== previous) votes.set(report, (votes.get(report) ?? 0) + 1);
          const [candidate, agreeing = 0] = [...votes.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
          if (candidate === undefined) {
            lastProblem = `no sentinel reports a master other than ${previous} yet`;
          } else {
            let role: string;
            try {
              const reply = await connections.call(candidate, remaining(), 'ROLE');
              role = Array.isArray(reply) ? String(reply[0]) : JSON.stringify(reply);
            } catch (error) {
              if (signal.aborted) throw error;
              if (isReplyError(error) && isNoAuth(error)) throw noAuthError(`the new master ${candidate}`, error);
              role = `unknown (${(error as Error).message})`;
            }
            if (role === 'master' && agreeing >= majority) {
              // The memory stays (it expires): a re-run after a crash before the checkpoint confirms, never repeats.
              logger.info({ masterName: name, previous, current: candidate, agreeing }, 'redis.sentinel-failover: new master confirmed');
              return { masterName: name, previous, current: candidate };
            }
            lastProblem = `${agreeing} of ${params.sentinels.length} sentinels report ${candidate} (need ${majority}), its ROLE is ${role}`;
          }
          if (remaining() < pollIntervalMs) {
            throw transientError(`failover of "${name}" away from ${previous} not confirmed within ${params.timeout} ms: ${lastProblem}`);
          }
          await sleep(pollIntervalMs, signal);
        }
      } finally {
        connections.close();
      }
    },
  });
}
