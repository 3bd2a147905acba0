import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** What Linux's /proc/<pid>/stat says about a process, the fields remediator needs. */
export interface ProcStat {
  readonly pid: number;
  /** R, S, D, Z (zombie: dead, waiting for its parent to reap it), T, … */
  readonly state: string;
  readonly pgrp: number;
  /** Field 22: clock ticks after boot at which it started. With the boot id it names one process, unlike a pid. */
  readonly startTime: string;
}

/** Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may hold spaces and ')'. */
export function parseProcStat(pid: number, text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // Fields from the third on; field n is at index n - 3.
  const fields = text.slice(close + 2).split(' ');
  const [state, , pgrp] = fields;
  const startTime = fields[19];
  if (state === undefined || pgrp === undefined || startTime === undefined) return undefined;
  return { pid, state, pgrp: Number(pgrp), startTime };
}

/** The process's stat, or undefined when it does not exist (or /proc is not there). */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(pid, await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The same, read synchronously: right after spawn() returns, before the event loop runs again, Node cannot have
 * reaped the child yet, so this pid still names our child even if it already exited.
 */
export function readProcStatNow(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Whether the process runs. A zombie does not: it is dead, only not reaped yet (its parent died and nobody reaps
 * orphans when remediator is PID 1 in a container), and kill(pid, 0) alone would still say it exists.
 */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, only not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = await readProcStat(pid);
  return stat === undefined || stat.state !== 'Z';
}

/** Every live (not zombie) process of a process group, found through /proc. */
export async function groupMembers(pgrp: number): Promise<ProcStat[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const stats = await Promise.all(entries.filter((entry) => /^\d+$/.test(entry)).map((entry) => readProcStat(Number(entry))));
  return stats.filter((stat): stat is ProcStat => stat !== undefined && stat.pgrp === pgrp && stat.state !== 'Z');
}

/** The machine's boot id (a pid and a start time name one process only within one boot); undefined without /proc. */
export function readBootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}
