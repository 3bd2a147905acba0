import { hostname } from 'node:os';
import type { StepProcess } from '../core/run-data.js';
import { groupMembers, readBootId, readProcStat, readProcStatNow, type ProcStat } from './process-status.js';
import { sleep } from './sleep.js';

/**
 * The identity of a child just spawned in a group of its own (spawn's `detached: true`: it leads a new session
 * and process group). Read synchronously on purpose: until the event loop runs again Node cannot reap the child,
 * so its /proc entry is still its own even if it already exited. Undefined without /proc (not Linux).
 */
export function describeSpawned(pid: number, killAfterMs: number): StepProcess | undefined {
  const stat = readProcStatNow(pid);
  const bootId = readBootId();
  if (stat === undefined || bootId === undefined) return undefined;
  return { pid, pgid: stat.pgrp, host: hostname(), bootId, startTime: stat.startTime, killAfterMs };
}

/** Sends `signal` to every process of the group; a group that is gone already is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone
  }
}

/**
 * The live processes of the recorded group. When its leader's pid names a process started at another time, the
 * pid was free again, which Linux allows only once no group has that id: ours ended.
 */
async function liveMembers(recorded: StepProcess): Promise<ProcStat[]> {
  const leader = await readProcStat(recorded.pid);
  if (leader !== undefined && leader.startTime !== recorded.startTime) return [];
  return groupMembers(recorded.pgid);
}

/** Whether any process of the recorded group still runs (so a signal to its id reaches it, not a newer group). */
export async function groupRuns(recorded: StepProcess): Promise<boolean> {
  return (await liveMembers(recorded)).length > 0;
}

async function goneWithin(recorded: StepProcess, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; ;) {
    if (!(await groupRuns(recorded))) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

/** What became of an earlier attempt's process group. */
export type EndedGroup =
  | { outcome: 'gone' }
  | { outcome: 'ended'; members: number }
  /** On another machine: it cannot be signalled from here. */
  | { outcome: 'elsewhere' }
  /** Still there after SIGKILL (a process stuck in the kernel). */
  | { outcome: 'stuck'; members: number };

/**
 * Ends the process group an earlier attempt of a step recorded, if it still runs on this machine since the same
 * boot: SIGTERM, SIGKILL after the step's `killAfterMs`, and resolves once no process of the group is left.
 */
export async function endProcessGroup(recorded: StepProcess, options: { killTimeoutMs?: number } = {}): Promise<EndedGroup> {
  if (recorded.host !== hostname()) return { outcome: 'elsewhere' };
  // Another boot: every process of the earlier one is gone.
  if (readBootId() !== recorded.bootId) return { outcome: 'gone' };
  const members = (await liveMembers(recorded)).length;
  if (members === 0) return { outcome: 'gone' };
  signalGroup(recorded.pgid, 'SIGTERM');
  if (await goneWithin(recorded, recorded.killAfterMs)) return { outcome: 'ended', members };
  signalGroup(recorded.pgid, 'SIGKILL');
  if (await goneWithin(recorded, options.killTimeoutMs ?? 5000)) return { outcome: 'ended', members };
  return { outcome: 'stuck', members: (await liveMembers(recorded)).length };
}
