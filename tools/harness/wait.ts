import { sleep } from '../../src/util/sleep.js';
import type { HarnessProcess } from './process.js';

/** How long and how often {@link waitFor} polls, and what ends it early. */
export interface WaitOptions {
  /** 15 s unless given. */
  timeoutMs?: number;
  /** 50 ms unless given. */
  intervalMs?: number;
  /** Processes that must keep running: the wait ends at once, with the exited one's output, when one exits. */
  processes?: readonly HarnessProcess[];
  /** Ends the wait at once with the error it returns (a process of a lab exited, a start was aborted). */
  failure?: () => Error | undefined;
}

/** The error of a process in `processes` that has exited, naming what was awaited. */
function exitedProcess(what: string, processes: readonly HarnessProcess[] | undefined): Error | undefined {
  const gone = processes?.find((candidate) => !candidate.running());
  return gone ? new Error(`${gone.name} exited while waiting for ${what}:\n${gone.tail()}`) : undefined;
}

/**
 * Polls `check` until it returns a truthy value and returns that value. A check that throws counts as not yet
 * (the server is not listening yet); the timeout error names what was awaited and the last error. Every wait is
 * bounded: on a state or an event, never a fixed sleep.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, options?: WaitOptions): Promise<NonNullable<T>>;
/** The same, with the timeout and the interval as numbers (the tests' spelling). */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs?: number,
  intervalMs?: number,
): Promise<NonNullable<T>>;
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutOrOptions?: number | WaitOptions,
  interval?: number,
): Promise<NonNullable<T>> {
  const options: WaitOptions =
    typeof timeoutOrOptions === 'object'
      ? timeoutOrOptions
      : {
          ...(timeoutOrOptions === undefined ? {} : { timeoutMs: timeoutOrOptions }),
          ...(interval === undefined ? {} : { intervalMs: interval }),
        };
  const { timeoutMs = 15_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const failed = options.failure?.() ?? exitedProcess(what, options.processes);
    if (failed) throw failed;
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const outputs = (options.processes ?? []).map((candidate) => `\n--- ${candidate.name}\n${candidate.tail()}`).join('');
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}${outputs}`,
      );
    }
    await sleep(intervalMs);
  }
}
