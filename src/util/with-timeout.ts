/**
 * Settles as `promise` does, or rejects once `ms` passed without an answer. The work itself is not cancelled; the
 * caller only stops waiting for it (a scrape, a readiness probe must answer even when Redis does not).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
    timer.unref();
  });
  // A late rejection of the abandoned promise must not surface as unhandled.
  promise.catch(() => undefined);
  return Promise.race([promise, expired]).finally(() => {
    clearTimeout(timer);
  });
}
