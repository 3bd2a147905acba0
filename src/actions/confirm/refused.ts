/**
 * Whether a failed connection was refused (ECONNREFUSED): the host answered and nothing listens on the port. Looks
 * through `cause` and an AggregateError's `errors` (Node's connection attempts over several addresses), because
 * drivers wrap the socket's error.
 */
export function isConnectionRefused(error: unknown, depth = 0): boolean {
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (code === 'ECONNREFUSED') return true;
  if (Array.isArray(errors) && errors.length > 0 && errors.every((inner: unknown) => isConnectionRefused(inner, depth + 1))) return true;
  return isConnectionRefused(cause, depth + 1);
}
