/**
 * Calls `send(index)` `count` times at `ratePerSec` (open loop: a slow answer does not delay the next call), and
 * resolves when every call has settled. Rejects with the first failure.
 */
export async function paced(count: number, ratePerSec: number, send: (index: number) => Promise<void>): Promise<void> {
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let index = 0; index < count; index += 1) {
    const due = started + (index * 1000) / ratePerSec;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(send(index));
  }
  await Promise.all(pending);
}

/** Runs `tasks` with at most `limit` in flight. */
export async function bounded(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const task = tasks[next];
        next += 1;
        if (task) await task();
      }
    }),
  );
}
