/** `value` with every occurrence of each of `secrets` in its strings (objects and arrays recursively) replaced by `replacement`. */
export function maskStrings(value: unknown, secrets: readonly string[], replacement: string): unknown {
  if (typeof value === 'string')
    return secrets.reduce((text, secret) => (secret === '' ? text : text.replaceAll(secret, replacement)), value);
  if (Array.isArray(value)) return value.map((item: unknown) => maskStrings(item, secrets, replacement));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskStrings(item, secrets, replacement)]));
  return value;
}
