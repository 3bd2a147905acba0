import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { startProcess } from './child-process.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait.js';

/** A real Prometheus on loopback. */
export interface TestPrometheus {
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts Prometheus scraping itself (and `targets`) every second. Resolves once the first scrape has landed,
 * because Prometheus answers /-/ready seconds before it has any data. `exporters` (host:port of `remediator
 * exporter`) are scraped as prometheus/prometheus.yml does: job remediator-exporter with honor_labels, so the
 * exporter's `instance` label (the member name) is kept.
 */
export async function startPrometheus(options: { targets?: string[]; exporters?: string[] } = {}): Promise<TestPrometheus> {
  const dir = await tempDir('remediator-prom-');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const targets = [`127.0.0.1:${port}`, ...(options.targets ?? [])];
  await writeFile(
    join(dir.path, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ${JSON.stringify(targets)}
${options.exporters === undefined ? '' : `  - job_name: remediator-exporter
    honor_labels: true
    static_configs:
      - targets: ${JSON.stringify(options.exporters)}
`}`,
  );
  const prometheus = startProcess('prometheus', [
    `--config.file=${join(dir.path, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir.path, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  await waitFor(`prometheus on ${port} to scrape itself (output: ${prometheus.output()})`, async () => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent('up{job="prometheus"}')}`);
    const body = (await response.json()) as { data?: { result?: unknown[] } };
    return (body.data?.result?.length ?? 0) > 0;
  }, 30_000, 200);
  return {
    url,
    output: prometheus.output,
    async stop() {
      await prometheus.stop();
      await dir.remove();
    },
  };
}
