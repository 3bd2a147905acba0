/*
 * WAL positions. PostgreSQL shows an LSN as two 32-bit hex halves ("16/B374D848"); remediator compares positions as
 * byte counts (bigint: they pass 2^53), read from pg_wal_lsn_diff(lsn, '0/0') as numeric text.
 */

/** An LSN ("16/B374D848") as a byte position; undefined when the text is no LSN. */
export function lsnToBigInt(lsn: string): bigint | undefined {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!match) return undefined;
  return (BigInt(`0x${match[1] ?? '0'}`) << 32n) + BigInt(`0x${match[2] ?? '0'}`);
}

/** A byte position as pg_wal_lsn_diff returns it (numeric text, possibly with a fraction); null stays undefined. */
export function walPosition(text: string | null): bigint | undefined {
  return text === null ? undefined : BigInt(text.split('.')[0] ?? '0');
}

/** The larger of two positions. */
export function maxPosition(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** The timeline a WAL segment file name starts with ("00000002000000000000000A" → 2). */
export function timelineOfWalFile(walfile: string): number {
  return Number.parseInt(walfile.slice(0, 8), 16);
}

/** The history file of `timeline` in pg_wal (written when a promotion starts it). */
export function timelineHistoryFile(timeline: number): string {
  return `pg_wal/${timeline.toString(16).toUpperCase().padStart(8, '0')}.history`;
}

/** A timeline history file: for each ancestor timeline, the WAL position where it ended (the fork point). */
export function parseTimelineHistory(text: string): Map<number, bigint> {
  const forks = new Map<number, bigint>();
  for (const line of text.split('\n')) {
    const [timeline, switchpoint] = line.trim().split(/\s+/);
    if (timeline === undefined || switchpoint === undefined || !/^\d+$/.test(timeline)) continue;
    const position = lsnToBigInt(switchpoint);
    if (position !== undefined) forks.set(Number(timeline), position);
  }
  return forks;
}

/** An amount of WAL for people: bytes below 1 KiB, else KiB … TiB with one decimal. */
export function formatBytes(bytes: bigint): string {
  const value = Number(bytes);
  if (value < 1024) return `${value} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let scaled = value / 1024;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return `${scaled.toFixed(1)} ${units[unit] ?? 'TiB'}`;
}
