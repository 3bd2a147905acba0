import type { WitnessObservation } from '../confirm/death-verdict.js';

/*
 * What a standby's WAL receiver says about its primary, as a witness for confirmDeath. Pure: the row is read by
 * death-observer.ts.
 *
 * What a standby shows after its primary goes away (PostgreSQL 13–17):
 * - Killed or crashed primary: the connection breaks, the WAL receiver exits, and pg_stat_wal_receiver has no row
 *   (the view hides a receiver that is not running, and a new one until it has connected). The startup process
 *   starts a new receiver every wal_retrieve_retry_interval (5 s); it fails to connect and exits again. Between,
 *   the row may show `stopping`, or `waiting` after a clean shutdown of the primary (end of its WAL).
 * - Hung primary (SIGSTOP, a stalled disk): the connection stays up and the row says `streaming`, but nothing
 *   arrives. The receiver asks for a reply after wal_receiver_timeout / 2 of silence, so a live primary is heard
 *   from at least that often; at wal_receiver_timeout it gives up (the row vanishes) and its next attempt hangs in
 *   the connection's startup, still without a row.
 * - A standby that never connected: no row either. It counts as having lost the primary, like a replica whose
 *   link is down: it cannot tell remediator the primary is alive.
 */

/** What a standby reported about its WAL receiver (one row; receiver fields null when no receiver runs). */
export interface WalReceiverReport {
  /** false: the member answers as a primary, so it witnesses nothing. */
  inRecovery: boolean;
  status: string | null;
  senderHost: string | null;
  senderPort: number | null;
  /** Milliseconds since the receiver last heard from its sender, by the standby's own clock; null without a row. */
  silentMs: number | null;
  /** wal_receiver_timeout in milliseconds (0: disabled). */
  walReceiverTimeoutMs: number;
}

/** Beyond this silence (ms) a live primary would have been heard from: half the receiver timeout (its ping) + 1 s. */
export function silenceLimitMs(walReceiverTimeoutMs: number): number | undefined {
  return walReceiverTimeoutMs > 0 ? walReceiverTimeoutMs / 2 + 1000 : undefined;
}

/**
 * The witness `member` is, from its report; `follows` says whether its receiver (or, without one, its
 * primary_conninfo) names the primary in question. `heardAgoMs`: how long ago an earlier round saw it last hear
 * from the primary; a receiver that gave up shows no row, and its silence must not start again from zero.
 */
export function witnessOf(member: string, report: WalReceiverReport, follows: boolean, heardAgoMs?: number): WitnessObservation {
  if (!report.inRecovery) return { member, answered: true, follows: false, lost: false, detail: 'answers as a primary' };
  if (!follows) return { member, answered: true, follows: false, lost: false, detail: 'replicates from another server' };
  if (report.status === null) {
    const earlier = heardAgoMs === undefined ? undefined : Math.round(heardAgoMs);
    const detail = earlier === undefined ? 'no WAL receiver' : `no WAL receiver, last message ${earlier} ms ago`;
    return { member, answered: true, follows, lost: true, ...lostFor(earlier), detail };
  }
  const silent = report.silentMs === null ? undefined : Math.max(0, Math.round(report.silentMs));
  const heard = silent === undefined ? 'never heard from it' : `last message ${silent} ms ago`;
  if (report.status !== 'streaming') {
    return { member, answered: true, follows, lost: true, ...lostFor(silent), detail: `WAL receiver ${report.status}, ${heard}` };
  }
  const limit = silenceLimitMs(report.walReceiverTimeoutMs);
  // Without a receiver timeout the receiver never pings: silence proves nothing, only a broken link does.
  if (limit === undefined) {
    return { member, answered: true, follows, lost: false, detail: `streaming, ${heard} (wal_receiver_timeout 0: silence not judged)` };
  }
  if (silent !== undefined && silent > limit) {
    return { member, answered: true, follows, lost: true, lostForMs: silent, detail: `streaming but silent: ${heard} (limit ${limit} ms)` };
  }
  return { member, answered: true, follows, lost: false, detail: `streaming, ${heard}` };
}

const lostFor = (silent: number | undefined) => (silent === undefined ? {} : { lostForMs: silent });

/** A witness that could not be asked (down, timed out, refused us): it cannot speak for or against the primary. */
export function silentWitness(member: string, detail: string): WitnessObservation {
  return { member, answered: false, follows: false, lost: false, detail: `no answer: ${detail}` };
}
