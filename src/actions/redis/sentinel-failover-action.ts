import { z } from 'zod';
import { defineAction, permanentError, transientError } from '../../core/action.js';
import { durationSchema } from '../../core/duration.js';
import { isAppError } from '../../core/errors/index.js';
import { addressSchema } from '../../inventory/inventory-schema.js';
import { createLocalRunMemory, type RunMemory } from '../../state/run-memory.js';
import { sleep } from '../../util/sleep.js';
import { confirmSchema } from '../confirm/confirm-schema.js';
import { confirmSentinelMaster } from './sentinel-confirm.js';
import { RedisConnections } from './sentinel-connections.js';
import { tallyReports, unconfirmedReason } from './sentinel-quorum.js';
import { failoverRefusal, isNoAuth, isReplyError, masterAddressOf, noAuthError } from './sentinel-replies.js';

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
  /** How the master's death is confirmed, by its replicas and by the sentinels, before SENTINEL FAILOVER. */
  confirm: confirmSchema,
});

const pollIntervalMs = 250;

/**
 * Forces a Redis Sentinel failover of a master confirmed dead and waits until it is done: the sentinels report a
 * new master, that server says it is a master (ROLE), and a majority of the given sentinels agree on it. Before
 * SENTINEL FAILOVER (which fails over a live master too), remediator, the replicas and the sentinels must agree the
 * master is gone (sentinel-confirm.ts); otherwise the run ends skipped and nothing changes.
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
      const connections = new RedisConnections(signal);
      try {
        // 1. The first reachable sentinel names the current master and is asked to fail over.
        const unreachable: string[] = [];
        let previous: string | undefined;
        let confirmation: Record<string, unknown> = {};
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
            logger.info(
              { masterName: name, previous: accepted, current },
              'redis.sentinel-failover: this run already failed over, confirming it',
            );
            previous = accepted;
            break;
          }
          previous = current;
          const confirmed = await confirmSentinelMaster(
            connections,
            { sentinel, sentinels: params.sentinels, masterName: name, master: current, confirm: params.confirm },
            { signal, logger },
          );
          if (confirmed.inProgress)
            logger.info({ masterName: name, previous }, 'redis.sentinel-failover: Sentinel is failing over already');
          else confirmation = { confirmation: confirmed.confirmation, sentinels: confirmed.sentinels };
          try {
            await connections.call(sentinel, remaining(), 'SENTINEL', 'FAILOVER', name);
            logger.info({ masterName: name, previous, sentinel }, 'redis.sentinel-failover: failover started');
          } catch (error) {
            if (signal.aborted) throw error;
            const refusal = failoverRefusal(sentinel, name, error);
            if (refusal) throw refusal;
            logger.info(
              { masterName: name, previous, sentinel },
              'redis.sentinel-failover: a failover is already in progress, waiting for it',
            );
          }
          await memory.set(memoKey, previous, 86_400_000);
          break;
        }
        if (previous === undefined) throw transientError(`no sentinel reachable for "${name}": ${unreachable.join('; ')}`);

        // 2. Poll until the sentinels report another master, it answers ROLE as master, and a majority agrees.
        for (;;) {
          const reports = await Promise.all(
            params.sentinels.map(async (sentinel) => {
              try {
                return masterAddressOf(
                  await connections.call(sentinel, remaining(), 'SENTINEL', 'get-master-addr-by-name', name),
                  sentinel,
                );
              } catch (error) {
                if (signal.aborted) throw error;
                return undefined; // unreachable or confused: it just does not count towards the majority
              }
            }),
          );
          const tally = tallyReports(reports, previous);
          let role: string | undefined;
          if (tally.candidate !== undefined) {
            try {
              const reply = await connections.call(tally.candidate, remaining(), 'ROLE');
              role = Array.isArray(reply) ? String(reply[0]) : JSON.stringify(reply);
            } catch (error) {
              if (signal.aborted) throw error;
              if (isReplyError(error) && isNoAuth(error)) throw noAuthError(`the new master ${tally.candidate}`, error);
              role = `unknown (${(error as Error).message})`;
            }
          }
          const problem = unconfirmedReason(tally, role);
          if (problem === undefined) {
            // The memory stays (it expires): a re-run after a crash before the checkpoint confirms, never repeats.
            logger.info(
              { masterName: name, previous, current: tally.candidate, agreeing: tally.agreeing },
              'redis.sentinel-failover: new master confirmed',
            );
            return { masterName: name, previous, current: tally.candidate, ...confirmation };
          }
          if (remaining() < pollIntervalMs) {
            throw transientError(`failover of "${name}" away from ${previous} not confirmed within ${params.timeout} ms: ${problem}`);
          }
          await sleep(pollIntervalMs, signal);
        }
      } finally {
        connections.close();
      }
    },
  });
}
