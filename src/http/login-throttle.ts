/** How a client's failed logins are slowed down. */
export interface LoginThrottleOptions {
  /** Failures a client may make before it is made to wait. */
  freeAttempts: number;
  /** A client's failures are forgotten this long after its last one. */
  windowMs: number;
  /** The first wait; each further failure doubles it, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Clients remembered at most; the least recently failing one is forgotten first. */
  maxClients: number;
  now: () => number;
}

/** The defaults: five free attempts, then 1 s, 2 s, 4 s, … up to 5 min, forgotten after 15 quiet minutes. */
export const defaultLoginThrottle: Omit<LoginThrottleOptions, 'now'> = {
  freeAttempts: 5,
  windowMs: 15 * 60_000, // 15 min, longer than the longest wait, so the waits keep growing
  baseDelayMs: 1000, // 1 s
  maxDelayMs: 5 * 60_000, // 5 min
  maxClients: 10_000,
};

/** What one more failure did to a client. */
export interface FailureRecord {
  /** Failures counted in the window, this one included. */
  failures: number;
  /** How long the client must now wait (0: it may try again at once). */
  blockedMs: number;
}

/** Per-client backoff of failed logins, in memory. */
export interface LoginThrottle {
  /** Milliseconds `client` must still wait before its credentials are checked again; 0 when it may try now. */
  waitFor(client: string): number;
  failed(client: string): FailureRecord;
  /** A correct password: the client starts afresh. */
  succeeded(client: string): void;
  /** Clients currently remembered. */
  readonly size: number;
}

interface ClientState {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

/**
 * Creates a throttle. A client (its address) that fails `freeAttempts` times within the window waits
 * `baseDelayMs`, doubled at every further failure up to `maxDelayMs`; while it waits its credentials are not even
 * checked. The map is bounded: a flood of addresses evicts the oldest, which at worst lets an evicted client start
 * afresh.
 */
export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const clients = new Map<string, ClientState>();
  const expired = (state: ClientState, at: number) => state.blockedUntil <= at && at - state.lastFailureAt > options.windowMs;
  return {
    waitFor(client) {
      const state = clients.get(client);
      if (!state) return 0;
      const at = options.now();
      if (expired(state, at)) {
        clients.delete(client);
        return 0;
      }
      return Math.max(0, state.blockedUntil - at);
    },
    failed(client) {
      const at = options.now();
      const previous = clients.get(client);
      const state = previous && !expired(previous, at) ? previous : { failures: 0, lastFailureAt: at, blockedUntil: at };
      state.failures++;
      state.lastFailureAt = at;
      const over = state.failures - options.freeAttempts;
      const blockedMs = over < 0 ? 0 : Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** over);
      state.blockedUntil = at + blockedMs;
      // Re-inserted, so the map's order is least recently failing first: that is the one evicted.
      clients.delete(client);
      clients.set(client, state);
      for (const oldest of clients.keys()) {
        if (clients.size <= options.maxClients) break;
        clients.delete(oldest);
      }
      return { failures: state.failures, blockedMs };
    },
    succeeded(client) {
      clients.delete(client);
    },
    get size() {
      return clients.size;
    },
  };
}
