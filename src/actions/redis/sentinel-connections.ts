import { Redis } from 'ioredis';
import { splitAddress } from '../../inventory/inventory.js';
import { isReplyError } from './sentinel-replies.js';

/** The longest a single connect or command may take (less when the action's own timeout is nearer). */
const callTimeoutMs = 5000;

/** `work`, or a CallTimeout after `ms`, or the abort reason as soon as `signal` fires. */
function bounded<T>(work: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    // Settled here or not, a late rejection of `work` must not go unhandled.
    work.catch(() => undefined);
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** One short-lived connection per server, no reconnects and no offline queue: a failed call fails at once. */
export class RedisConnections {
  private readonly clients = new Map<string, Redis>();

  constructor(private readonly signal: AbortSignal) {}

  /** The last connection error per server: ioredis rejects a failed connect with a bare "Connection is closed.". */
  private readonly lastErrors = new Map<string, Error>();

  /** The connect of each server's client, awaited by every call on it. */
  private readonly connecting = new Map<string, Promise<void>>();

  async call(address: string, timeoutMs: number, command: string, ...args: string[]): Promise<unknown> {
    this.signal.throwIfAborted();
    let client = this.clients.get(address);
    if (!client) {
      const { host, port } = splitAddress(address);
      client = new Redis({
        host,
        port,
        lazyConnect: true,
        enableReadyCheck: false,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectTimeout: callTimeoutMs,
      });
      client.on('error', (error: Error) => this.lastErrors.set(address, error)); // reported through the failing call
      this.clients.set(address, client);
    }
    const connected = client;
    // Calls made together share the one connect: a second connect() on a connecting client is refused.
    if (connected.status === 'wait') this.connecting.set(address, connected.connect());
    const connecting = this.connecting.get(address);
    try {
      return await bounded(
        (async () => {
          await connecting;
          return connected.call(command, args);
        })(),
        Math.max(1, Math.min(callTimeoutMs, timeoutMs)),
        this.signal,
      );
    } catch (error) {
      // A reply error leaves the connection usable; anything else means starting afresh next time.
      if (isReplyError(error) || this.signal.aborted) throw error;
      connected.disconnect();
      this.clients.delete(address);
      this.connecting.delete(address);
      const cause = this.lastErrors.get(address);
      this.lastErrors.delete(address);
      throw cause && error instanceof Error && error.message === 'Connection is closed.' ? cause : error;
    }
  }

  close(): void {
    for (const client of this.clients.values()) client.disconnect();
    this.clients.clear();
    this.connecting.clear();
  }
}
