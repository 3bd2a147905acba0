/** 64-bit FNV-1a, as Prometheus' model package hashes label sets. */
const fnvOffset = 0xcbf29ce484222325n;
const fnvPrime = 0x100000001b3n;
const mask = 0xffffffffffffffffn;
/** model.SeparatorByte: written after every label name and value, so ("ab","c") and ("a","bc") differ. */
const separator = 0xff;

/**
 * The fingerprint Alertmanager gives an alert: FNV-1a over the label names in sorted order, each name and value
 * followed by 0xff, as 16 hex digits (prometheus/common model.LabelSet.Fingerprint). The same labels always give
 * the same fingerprint, so every episode of one instance's alert carries one fingerprint, as in production.
 */
export function alertFingerprint(labels: Readonly<Record<string, string>>): string {
  let hash = fnvOffset;
  const add = (bytes: Iterable<number>) => {
    for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * fnvPrime) & mask;
  };
  const encoder = new TextEncoder();
  // Go's sort.Strings orders by bytes; label names are ASCII ([a-zA-Z_][a-zA-Z0-9_]*), where UTF-16 order is the same.
  for (const name of Object.keys(labels).sort()) {
    add(encoder.encode(name));
    add([separator]);
    add(encoder.encode(labels[name] ?? ''));
    add([separator]);
  }
  return hash.toString(16).padStart(16, '0');
}
