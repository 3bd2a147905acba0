import autocannon from 'autocannon';
import { summarize, type LatencySummary } from './stats.js';

/** What one load run measured. */
export interface LoadResult extends LatencySummary {
  reqPerSec: number;
  requests: number;
  /** Answers other than `expectStatus`, errors and timeouts: a benchmark with any of these is invalid. */
  unexpected: number;
  statuses: Record<string, number>;
}

/**
 * Runs autocannon against `url` with `connections` keep-alive connections for `seconds`, every request a POST of
 * the next body `nextBody` gives. Latencies are recorded exactly (every response), not from autocannon's histogram.
 * With `rate` (requests/s over all connections) the load is open-loop at that rate instead of as fast as possible.
 */
export function runLoad(options: {
  url: string;
  path: string;
  connections: number;
  seconds: number;
  nextBody: () => string;
  headers?: Record<string, string>;
  expectStatus: number;
  rate?: number;
}): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        requests: [{ method: 'POST', path: options.path, setupRequest: (request) => ({ ...request, body: options.nextBody() }) }],
        ...(options.rate === undefined ? {} : { overallRate: options.rate }),
        timeout: 10,
      },
      (error: unknown, result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(`autocannon failed: ${JSON.stringify(error)}`));
          return;
        }
        const other = Object.entries(statuses)
          .filter(([status]) => status !== String(options.expectStatus))
          .reduce((sum, [, count]) => sum + count, 0);
        resolve({
          ...summarize(latencies),
          reqPerSec: latencies.length / ((result.finish.getTime() - result.start.getTime()) / 1000),
          requests: latencies.length,
          unexpected: other + result.errors + result.timeouts,
          statuses,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      statuses[String(statusCode)] = (statuses[String(statusCode)] ?? 0) + 1;
      if (statusCode === options.expectStatus) latencies.push(responseTime);
    });
  });
}
