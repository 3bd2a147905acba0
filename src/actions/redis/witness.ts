import { joinAddress } from '../../inventory/inventory.js';
import { infoNumber } from '../../inventory/redis-info.js';
import type { WitnessObservation } from '../confirm/death-verdict.js';

/** The primary's keepalive period assumed when a replica will not say (CONFIG renamed or refused): Redis's default. */
export const defaultPingPeriodSeconds = 10;

/** repl-ping-replica-period from a CONFIG GET reply ([name, value]), or undefined when the reply holds none. */
export function pingPeriodOf(reply: unknown): number | undefined {
  if (!Array.isArray(reply) || reply.length < 2) return undefined;
  const seconds = Number(reply[1]);
  return Number.isInteger(seconds) && seconds > 0 ? seconds : undefined;
}

/**
 * What one replica's INFO replication says about `primary` (host:port). It follows the primary when its
 * master_host:master_port is that address. It has lost it when its link is down, or when it heard nothing from it
 * for longer than the primary's keepalive (`pingPeriodSeconds`): a stopped (SIGSTOP) or wedged primary keeps the
 * link up until repl-timeout (60 s), only its silence shows. Redis counts both in whole seconds from truncated
 * clock readings, so a reported n means more than n − 1: the loss duration is taken as n − 1 s (conservative).
 */
export function replicaWitness(
  member: string,
  primary: string,
  info: ReadonlyMap<string, string>,
  pingPeriodSeconds: number,
): WitnessObservation {
  if (info.get('role') !== 'slave')
    return { member, answered: true, follows: false, lost: false, detail: `is a ${info.get('role') ?? '?'}` };
  const follows = joinAddress(info.get('master_host') ?? '', info.get('master_port') ?? '');
  if (follows !== primary) return { member, answered: true, follows: false, lost: false, detail: `follows ${follows}` };
  if (info.get('master_link_status') !== 'up') {
    // -1: never connected since it started following this primary; it cannot say for how long.
    const down = infoNumber(info, 'master_link_down_since_seconds');
    if (down < 0) return { member, answered: true, follows: true, lost: true, detail: 'link down, never connected' };
    return { member, answered: true, follows: true, lost: true, lostForMs: Math.max(0, down - 1) * 1000, detail: `link down ${down} s` };
  }
  const silent = infoNumber(info, 'master_last_io_seconds_ago');
  const detail = `link up, last I/O ${silent} s ago (ping period ${pingPeriodSeconds} s)`;
  if (silent <= pingPeriodSeconds) return { member, answered: true, follows: true, lost: false, detail };
  // Overdue since the keepalive that should have come: silent − period, less the second of truncation.
  return { member, answered: true, follows: true, lost: true, lostForMs: Math.max(0, silent - 1 - pingPeriodSeconds) * 1000, detail };
}

/**
 * What one sentinel's SENTINEL MASTER reply (flat [field, value, …]) says about `primary` (host:port): it watches
 * it when the master it monitors is at that address. It has lost it when it flags the master down (s_down, o_down),
 * its link to it is broken (disconnected), or it has had no valid PING reply for two ping periods (a sentinel pings
 * every min(down-after-milliseconds, 1 s)): Sentinel's own s_down waits for down-after-milliseconds (30 s by
 * default), far longer than the confirmation, so its raw ping record is read instead. Lost for: the time since the
 * last valid reply less one ping period.
 */
export function sentinelWitness(member: string, primary: string, reply: unknown): WitnessObservation {
  const fields = new Map<string, string>();
  if (Array.isArray(reply))
    for (let index = 0; index + 1 < reply.length; index += 2) fields.set(String(reply[index]), String(reply[index + 1]));
  const watches = joinAddress(fields.get('ip') ?? '', fields.get('port') ?? '');
  if (watches !== primary) return { member, answered: true, follows: false, lost: false, detail: `monitors ${watches}` };
  const flags = (fields.get('flags') ?? '').split(',');
  const lastOk = Number(fields.get('last-ok-ping-reply') ?? 0);
  const period = Math.min(Number(fields.get('down-after-milliseconds') ?? 1000) || 1000, 1000);
  const detail = `flags ${flags.join(',')}, last valid PING reply ${lastOk} ms ago`;
  const flagged = flags.some((flag) => flag === 's_down' || flag === 'o_down' || flag === 'disconnected');
  if (!flagged && lastOk <= 2 * period) return { member, answered: true, follows: true, lost: false, detail };
  return { member, answered: true, follows: true, lost: true, lostForMs: Math.max(0, lastOk - period), detail };
}
