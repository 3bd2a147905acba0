/** Runs tasks one at a time per client, a bounded number waiting. */
export interface ClientQueue {
  /** `task`'s result once the client's earlier tasks are done; 'full' at once when `maxWaiting` already wait. */
  run<T>(client: string, task: () => Promise<T>): Promise<T | 'full'>;
}

/**
 * Creates the queue. The admin auth checks one client's passwords one at a time through it, so guesses sent in
 * parallel meet the login backoff as guesses in a row do (each sees the failures before it), and a client cannot
 * have more than `maxWaiting` scrypt checks pending. Only clients with a request in flight are remembered.
 */
export function createClientQueue(maxWaiting: number): ClientQueue {
  const queues = new Map<string, { tail: Promise<unknown>; size: number }>();
  return {
    async run(client, task) {
      const entry = queues.get(client) ?? { tail: Promise.resolve(), size: 0 };
      if (entry.size >= maxWaiting) return 'full';
      entry.size++;
      queues.set(client, entry);
      const result = entry.tail.then(task);
      entry.tail = result.catch(() => undefined);
      try {
        return await result;
      } finally {
        entry.size--;
        if (entry.size === 0) queues.delete(client);
      }
    },
  };
}
