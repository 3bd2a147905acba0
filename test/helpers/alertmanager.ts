import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { startProcess } from './child-process.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait.js';

/** An alert as posted to Alertmanager's /api/v2/alerts. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

/** A real Alertmanager (Debian's prometheus-alertmanager) routing every alert to one webhook. */
export interface TestAlertmanager {
  readonly url: string;
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

/** Starts Alertmanager on loopback with fast group timings; the webhook uses a bearer token from a file. */
export async function startAlertmanager(options: { webhookUrl: string; token?: string; groupBy?: string[]; maxAlerts?: number }): Promise<TestAlertmanager> {
  const dir = await tempDir('remediator-am-');
  const port = await freePort();
  const tokenFile = join(dir.path, 'token');
  if (options.token !== undefined) await writeFile(tokenFile, options.token);
  const auth = options.token === undefined ? '' : `
        http_config:
          authorization:
            type: Bearer
            credentials_file: ${tokenFile}`;
  await writeFile(
    join(dir.path, 'alertmanager.yml'),
    `route:
  receiver: remediator
  group_by: ${JSON.stringify(options.groupBy ?? ['alertname', 'cluster'])}
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: remediator
    webhook_configs:
      - url: ${options.webhookUrl}
        send_resolved: true${options.maxAlerts === undefined ? '' : `
        max_alerts: ${options.maxAlerts}`}${auth}
`,
  );
  const am = startProcess('prometheus-alertmanager', [
    `--config.file=${join(dir.path, 'alertmanager.yml')}`,
    `--storage.path=${join(dir.path, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`alertmanager on ${port} (output: ${am.output()})`, async () => (await fetch(`${url}/-/ready`)).ok, 15_000, 100);
  return {
    url,
    async postAlerts(alerts) {
      const response = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      if (!response.ok) throw new Error(`alertmanager refused alerts: ${response.status} ${await response.text()}`);
    },
    output: am.output,
    async stop() {
      await am.stop();
      await dir.remove();
    },
  };
}
