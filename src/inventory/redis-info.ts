/** Parses the text of a Redis INFO section (INFO replication) into field → value; headers and blank lines are skipped. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** A numeric INFO field; a missing one counts as 0. */
export function infoNumber(info: ReadonlyMap<string, string>, key: string): number {
  return Number(info.get(key) ?? 0);
}

/**
 * How much of the replication stream a replica holds. The read offset is what it received, the repl offset what it
 * applied: received data survives a promotion, so the larger of the two counts.
 */
export function replicaOffset(info: ReadonlyMap<string, string>): number {
  return Math.max(infoNumber(info, 'slave_repl_offset'), infoNumber(info, 'slave_read_repl_offset'));
}
