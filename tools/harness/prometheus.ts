import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { startProcess, type HarnessProcess } from './process.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait.js';

/** A real Prometheus on loopback. */
export interface Prometheus {
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Where a Prometheus process reads its config, keeps its data and listens. */
export interface PrometheusLaunch {
  configFile: string;
  dataDir: string;
  port: number;
  /** The program (default `prometheus` on PATH). */
  binary?: string;
  /** More flags, last (the playbook simulator's retention). */
  args?: string[];
}

/** Starts the Prometheus process on 127.0.0.1 and returns at once; the caller waits for what it needs. */
export function launchPrometheus(options: PrometheusLaunch): HarnessProcess {
  return startProcess(
    options.binary ?? 'prometheus',
    [
      `--config.file=${options.configFile}`,
      `--storage.tsdb.path=${options.dataDir}`,
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--log.level=warn',
      ...(options.args ?? []),
    ],
    { name: 'prometheus' },
  );
}

/**
 * Starts Prometheus scraping itself (and `targets`) every second. Resolves once the first scrape has landed,
 * because Prometheus answers /-/ready seconds before it has any data. `exporters` (host:port of `remediator
 * exporter`) are scraped as prometheus/prometheus.yml does: job remediator-exporter with honor_labels, so the
 * exporter's `instance` label (the member name) is kept.
 */
export async function startPrometheus(options: { targets?: string[]; exporters?: string[] } = {}): Promise<Prometheus> {
  const dir = await tempDir('remediator-prom-');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const targets = [`127.0.0.1:${port}`, ...(options.targets ?? [])];
  const configFile = join(dir.path, 'prometheus.yml');
  await writeFile(
    configFile,
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ${JSON.stringify(targets)}
${
  options.exporters === undefined
    ? ''
    : `  - job_name: remediator-exporter
    honor_labels: true
    static_configs:
      - targets: ${JSON.stringify(options.exporters)}
`
}`,
  );
  const prometheus = launchPrometheus({ configFile, dataDir: join(dir.path, 'data'), port });
  const stop = async () => {
    await prometheus.stop();
    await dir.remove();
  };
  try {
    await waitFor(
      `prometheus on ${port} to scrape itself`,
      async () => {
        const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('up{job="prometheus"}')}`);
        const body = (await response.json()) as { data?: { result?: unknown[] } };
        return (body.data?.result?.length ?? 0) > 0;
      },
      { timeoutMs: 30_000, intervalMs: 200, processes: [prometheus] },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, output: prometheus.output, stop };
}
