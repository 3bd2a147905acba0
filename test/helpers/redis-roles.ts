import { Redis } from 'ioredis';

/** What ROLE said about a member at one poll; `down` when it did not answer. */
export type ObservedRole = 'master' | 'slave' | 'down';

/** A member that answered ROLE as a replica at one poll and as a primary at the next: a live promotion. */
export interface ObservedPromotion {
  member: string;
  atMs: number;
}

/** A background ROLE poller over a set of Redis servers, owned by one test. */
export interface RoleWatch {
  /** The latest answer of every member. */
  current(): Record<string, ObservedRole>;
  /** Every replica → primary transition of one server process seen, in order. */
  readonly promotions: readonly ObservedPromotion[];
  /** Every change of a member's answer, as `+ms member role` lines, for failure messages. */
  readonly history: readonly string[];
  readonly polls: number;
  /** Polls at which more than one member answered as a primary (two writable primaries: split brain). */
  readonly splitBrainPolls: number;
  stop(): Promise<void>;
}

/**
 * Asks every member `ROLE` (and its process's `run_id`) every `intervalMs` and records each member's answers. A
 * promotion is counted when the same server process answered "slave" and then, at its next answer, "master".
 * Polls it did not answer in between (a slow answer on a loaded machine) do not hide a promotion, and a server
 * restarted in between (a new run_id) that boots as a primary from its own configuration was promoted by nobody.
 */
export function watchRoles(members: Readonly<Record<string, number>>, intervalMs = 100): RoleWatch {
  const startedAt = Date.now();
  const clients = new Map(
    Object.entries(members).map(([name, port]) => {
      // One attempt per poll: no offline queue and no retries, so a dead member answers "down" at once.
      return [name, fastClient(port, { lazyConnect: true })] as const;
    }),
  );
  const state: Record<string, ObservedRole> = Object.fromEntries(Object.keys(members).map((name) => [name, 'down']));
  const seen = new Set<string>();
  const promotions: ObservedPromotion[] = [];
  const history: string[] = [];
  let polls = 0;
  let splitBrainPolls = 0;
  const control = { stopped: false };
  /** Per member: the last answer and the process that gave it. */
  const answered = new Map<string, { role: 'master' | 'slave'; runId: string }>();
  const poll = async (name: string, client: Redis) => {
    let role: ObservedRole = 'down';
    let runId = '';
    try {
      const [reply, info] = await Promise.all([client.call('ROLE') as Promise<unknown[]>, client.info('server')]);
      runId = /^run_id:(\w+)/m.exec(info)?.[1] ?? '';
      role = reply[0] === 'master' ? 'master' : reply[0] === 'slave' ? 'slave' : 'down';
    } catch {
      // not answering: down
    }
    if (role !== 'down') {
      const last = answered.get(name);
      if (last?.role === 'slave' && role === 'master' && last.runId === runId)
        promotions.push({ member: name, atMs: Date.now() - startedAt });
      answered.set(name, { role, runId });
    }
    const previous = state[name];
    if (seen.has(name) && previous === role) return;
    history.push(`+${Date.now() - startedAt}ms ${name} ${role}`);
    state[name] = role;
    seen.add(name);
  };
  const loop = (async () => {
    // Connected before the first poll, so a member that is up is never recorded as down for want of a connection.
    await Promise.allSettled([...clients.values()].map((client) => client.connect()));
    while (!control.stopped) {
      const next = Date.now() + intervalMs;
      await Promise.all([...clients].map(([name, client]) => poll(name, client)));
      polls++;
      if (Object.values(state).filter((role) => role === 'master').length > 1) splitBrainPolls++;
      // The watch's sampling period, not a wait for an event: it records what every member answers, every interval.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
    }
  })();
  return {
    current: () => ({ ...state }),
    promotions,
    history,
    get polls() {
      return polls;
    },
    get splitBrainPolls() {
      return splitBrainPolls;
    },
    async stop() {
      control.stopped = true;
      await loop;
      for (const client of clients.values()) client.disconnect();
    },
  };
}

/** A client that fails at once while its server is down (the harness's clients wait for it to come back). */
export function fastClient(port: number, options: { lazyConnect?: boolean } = {}): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    ...options,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 500,
    commandTimeout: 1000,
    retryStrategy: () => 50,
  });
  client.on('error', () => undefined);
  return client;
}
