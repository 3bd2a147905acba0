/**
 * Lets a repeated log line through at most once per `intervalMs`, telling how many were held back since the last
 * one: during an outage every reconnect attempt fails, and a line per attempt would bury everything else.
 */
export function createRateLimited(intervalMs: number, now: () => number = Date.now): (log: (suppressed: number) => void) => void {
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (log) => {
    const at = now();
    if (at - last < intervalMs) {
      suppressed++;
      return;
    }
    last = at;
    const held = suppressed;
    suppressed = 0;
    log(held);
  };
}
