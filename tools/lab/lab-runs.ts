import { Redis } from 'ioredis';
import { readEmbeddedRedisUrl } from '../../src/redis/embedded-redis-files.js';
import type { DemoRunView } from './demo-summary.js';
import type { Lab } from './lab.js';

/** The runs of one playbook, read through remediator's runs API as the lab's admin. */
export interface LabRuns {
  /** Every run (the latest 50), each in full: step outputs, guards, skip reasons. */
  all(): Promise<DemoRunView[]>;
  /** Waits until the run of `phase` has completed or failed; fails at once when a process of the lab exits. */
  finished(phase: string, timeoutMs: number): Promise<DemoRunView>;
}

/** Reads runs from `baseUrl`/api/runs with the admin's basic credentials. */
export function labRuns(options: { lab: Lab; baseUrl: string; adminPassword: string; playbook: string }): LabRuns {
  const runsUrl = `${options.baseUrl}/api/runs`;
  const headers = { authorization: `Basic ${Buffer.from(`admin:${options.adminPassword}`).toString('base64')}` };
  // The list holds summaries; the lab needs each run in full.
  const all = async () => {
    const { runs } = (await (await fetch(`${runsUrl}?limit=50`, { headers })).json()) as { runs: { id: string }[] };
    return Promise.all(
      runs.map(async (run) => (await (await fetch(`${runsUrl}/${encodeURIComponent(run.id)}`, { headers })).json()) as DemoRunView),
    );
  };
  return {
    all,
    finished: (phase, timeoutMs) =>
      options.lab.waitFor(
        `the ${phase} run to finish`,
        async () => {
          const runs = (await all()).filter((run) => run.playbook === options.playbook && run.phase === phase);
          return runs.find((run) => run.state === 'completed' || run.state === 'failed');
        },
        timeoutMs,
        250,
      ),
  };
}

/**
 * remediator's record of the primary it chose per cluster (src/state/primary-record.ts, default prefix), read
 * from the embedded Redis of `remediator serve` through the state and password files it keeps in its data directory.
 */
export async function readPrimaryRecord(dataDir: string): Promise<Record<string, string>> {
  const connection = new Redis(await readEmbeddedRedisUrl(dataDir), {
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  connection.on('error', () => undefined);
  try {
    await connection.connect();
    return await connection.hgetall('remediator:primaries');
  } finally {
    connection.disconnect();
  }
}
