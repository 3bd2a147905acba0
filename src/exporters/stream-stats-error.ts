/**
 * The stats endpoint could not be reached or did not answer in time. The collector tells this apart from a bad
 * answer: a server that is down is a measurement (the handshake probe reports it), not a collector failure.
 */
export class StreamStatsUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamStatsUnreachableError';
  }
}

/** The stats endpoint answered, but not with what its server kind should say (HTTP error, malformed body). */
export class StreamStatsInvalidError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamStatsInvalidError';
  }
}
