import { readdir, readFile } from 'node:fs/promises';

/** A process as /proc shows it. */
export interface ProcessEntry {
  readonly pid: number;
  /** Its command line; empty for a zombie (it has ended, only not reaped yet). */
  readonly argv: readonly string[];
}

async function entryOf(pid: number): Promise<ProcessEntry | undefined> {
  try {
    return { pid, argv: (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean) };
  } catch {
    return undefined; // it ended while being read
  }
}

/** Every process on the machine whose command line `matches`: how a test sees that a program it cannot hold still runs. */
export async function processesMatching(matches: (argv: readonly string[]) => boolean): Promise<ProcessEntry[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const entries = await Promise.all(pids.map(entryOf));
  return entries.filter((entry): entry is ProcessEntry => entry !== undefined && matches(entry.argv));
}
