import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/util/free-port.js';
import { launchPrometheus } from '../harness/prometheus.js';
import { tempDir } from '../harness/temp-dir.js';
import { waitFor } from '../harness/wait.js';

const run = promisify(execFile);

/** One input series of a simulated case: its identity and its samples, at ms from the case's start. */
export interface InputSeries {
  name: string;
  labels: Readonly<Record<string, string>>;
  samples: readonly { atMs: number; value: number }[];
}

/** A throwaway Prometheus holding every case's series, each case in a time slot of its own. */
export interface SeriesPrometheus {
  readonly url: string;
  /** Where case `index`'s time 0 lies on this Prometheus's timeline (ms since the epoch). */
  offsetOf(index: number): number;
  stop(): Promise<void>;
}

/**
 * Between two cases' slots: further than any lookback (5 m) or range a guard plausibly reads, so one case never
 * sees another's series. A guard reading a range longer than this could.
 */
export const caseGapMs = 366 * 86_400_000;
/** Prometheus keeps blocks this far behind the newest one; the slots must fit in it. */
const retentionYears = 250;

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** OpenMetrics text of every case's series, each case shifted to its slot; samples of a family kept together. */
export function openMetricsText(cases: readonly (readonly InputSeries[])[], offsets: readonly number[]): string {
  const families = new Map<string, string[]>();
  cases.forEach((series, index) => {
    const offset = offsets[index] ?? 0;
    for (const one of series) {
      const labels = Object.entries(one.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, value]) => `${name}="${escapeLabel(value)}"`)
        .join(',');
      const lines = families.get(one.name) ?? [];
      families.set(one.name, lines);
      for (const sample of [...one.samples].sort((a, b) => a.atMs - b.atMs))
        lines.push(`${one.name}{${labels}} ${formatValue(sample.value)} ${((offset + sample.atMs) / 1000).toFixed(3)}`);
    }
  });
  return `${[...families.values()].flat().join('\n')}${families.size === 0 ? '' : '\n'}# EOF\n`;
}

/**
 * Writes the cases' series as OpenMetrics, backfills them into a fresh TSDB with `promtool tsdb
 * create-blocks-from openmetrics`, and starts a real `prometheus` on it (loopback, ephemeral port, nothing scraped).
 * Case `i` starts `caseGapMs` after the last sample of case `i - 1`.
 */
export async function startSeriesPrometheus(
  cases: readonly (readonly InputSeries[])[],
  options: { prometheus?: string; promtool?: string } = {},
): Promise<SeriesPrometheus> {
  const offsets: number[] = [];
  let next = 0;
  for (const series of cases) {
    offsets.push(next);
    const last = Math.max(0, ...series.flatMap((one) => one.samples.map((sample) => sample.atMs)));
    next += last + caseGapMs;
  }
  if (next > (retentionYears - 1) * 365 * 86_400_000) throw new Error(`too many test cases for one run (${cases.length})`);
  const dir = await tempDir('remediator-sim-prom-');
  try {
    const input = join(dir.path, 'series.om');
    const data = join(dir.path, 'data');
    await writeFile(input, openMetricsText(cases, offsets));
    if (cases.some((series) => series.some((one) => one.samples.length > 0)))
      await run(options.promtool ?? 'promtool', ['tsdb', 'create-blocks-from', 'openmetrics', input, data], {
        timeout: 120_000,
        maxBuffer: 16 * 1024 * 1024,
      });
    const configFile = join(dir.path, 'prometheus.yml');
    await writeFile(configFile, 'global: {}\n');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const prometheus = launchPrometheus({
      configFile,
      dataDir: data,
      port,
      ...(options.prometheus === undefined ? {} : { binary: options.prometheus }),
      args: [`--storage.tsdb.retention.time=${retentionYears}y`],
    });
    const stop = async () => {
      await prometheus.stop();
      await dir.remove();
    };
    try {
      // Ready once it answers a query: the blocks are loaded before the API serves.
      await waitFor(
        `prometheus on ${port} to answer queries`,
        async () => ((await (await fetch(`${url}/api/v1/query?query=1`)).json()) as { status?: string }).status === 'success',
        { timeoutMs: 30_000, intervalMs: 100, processes: [prometheus] },
      );
    } catch (error) {
      await stop();
      throw error;
    }
    return { url, offsetOf: (index) => offsets[index] ?? 0, stop };
  } catch (error) {
    await dir.remove();
    throw error;
  }
}
