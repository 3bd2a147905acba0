import { permanentError, transientError } from '../../core/action.js';
import type { AppError } from '../../core/errors/index.js';

/** An error reply from the server (as opposed to a connection problem). */
export function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

/** A reply saying the server wants credentials (or refused the ones given). */
export function isNoAuth(error: Error): boolean {
  return /^(NOAUTH|WRONGPASS)/.test(error.message);
}

/** The permanent error for a server that asks for a password: retrying without one cannot help. */
export function noAuthError(address: string, error: Error): AppError {
  return permanentError(
    `${address} requires a password (${error.message}); redis.sentinel-failover connects without credentials in this version`,
    error,
  );
}

/** host:port from a get-master-addr-by-name reply ([ip, port]); undefined for a nil reply (unknown master). */
export function masterAddressOf(reply: unknown, sentinel: string): string | undefined {
  if (reply === null) return undefined;
  if (Array.isArray(reply) && reply.length === 2) {
    const [host, port] = reply.map(String) as [string, string];
    return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  }
  throw transientError(`sentinel ${sentinel} gave an unexpected get-master-addr-by-name answer: ${JSON.stringify(reply)}`);
}

/**
 * The step's error for a SENTINEL FAILOVER that failed, or undefined when a failover is already in progress (it is
 * waited for like our own).
 */
export function failoverRefusal(sentinel: string, masterName: string, error: unknown): AppError | undefined {
  // The command may or may not have arrived: asking another sentinel could start a second failover.
  if (!isReplyError(error))
    return transientError(`sentinel ${sentinel} failed during SENTINEL FAILOVER ${masterName}: ${(error as Error).message}`, error);
  if (error.message.startsWith('INPROG')) return undefined;
  if (error.message.startsWith('NOGOODSLAVE'))
    return permanentError(`sentinel ${sentinel} has no good replica to promote for "${masterName}": ${error.message}`, error);
  if (isNoAuth(error)) return noAuthError(`sentinel ${sentinel}`, error);
  return permanentError(`sentinel ${sentinel} refused SENTINEL FAILOVER ${masterName}: ${error.message}`, error);
}
