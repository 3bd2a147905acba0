import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { startProcess, type HarnessProcess } from './process.js';
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
export interface Alertmanager {
  readonly url: string;
  postAlerts(alerts: PostableAlert[]): Promise<void>;
  readonly output: () => string;
  /** Its process (SIGSTOP it to stop every notification at once). */
  readonly process: HarnessProcess;
  stop(): Promise<void>;
}

/** Where an Alertmanager process reads its config, keeps its data and listens. */
export interface AlertmanagerLaunch {
  configFile: string;
  dataDir: string;
  port: number;
  /** The program (default Debian's `prometheus-alertmanager` on PATH). */
  binary?: string;
}

/**
 * Starts the Alertmanager process on 127.0.0.1 and returns at once. The empty --cluster.listen-address keeps it
 * from binding 0.0.0.0:9094 for a cluster it does not have.
 */
export function launchAlertmanager(options: AlertmanagerLaunch): HarnessProcess {
  return startProcess(
    options.binary ?? 'prometheus-alertmanager',
    [
      `--config.file=${options.configFile}`,
      `--storage.path=${options.dataDir}`,
      `--web.listen-address=127.0.0.1:${options.port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { name: 'alertmanager' },
  );
}

/** Starts Alertmanager on loopback with fast group timings; the webhook uses a bearer token from a file. */
export async function startAlertmanager(options: {
  webhookUrl: string;
  token?: string;
  groupBy?: string[];
  maxAlerts?: number;
  /** How often a group's notification is re-sent while nothing changed (default 1h). */
  repeatInterval?: string;
  /** The webhook's `http_config.tls_config`: the CA that signed remediator's certificate, and a client certificate. */
  tls?: { caFile: string; certFile?: string; keyFile?: string };
}): Promise<Alertmanager> {
  const dir = await tempDir('remediator-am-');
  const port = await freePort();
  const tokenFile = join(dir.path, 'token');
  if (options.token !== undefined) await writeFile(tokenFile, options.token);
  const authorization =
    options.token === undefined
      ? ''
      : `
          authorization:
            type: Bearer
            credentials_file: ${tokenFile}`;
  const tls = options.tls;
  const tlsConfig =
    tls === undefined
      ? ''
      : `
          tls_config:
            ca_file: ${tls.caFile}${tls.certFile === undefined ? '' : `\n            cert_file: ${tls.certFile}`}${
              tls.keyFile === undefined ? '' : `\n            key_file: ${tls.keyFile}`
            }`;
  const auth = authorization === '' && tlsConfig === '' ? '' : `\n        http_config:${authorization}${tlsConfig}`;
  const configFile = join(dir.path, 'alertmanager.yml');
  await writeFile(
    configFile,
    `route:
  receiver: remediator
  group_by: ${JSON.stringify(options.groupBy ?? ['alertname', 'cluster'])}
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: ${options.repeatInterval ?? '1h'}
receivers:
  - name: remediator
    webhook_configs:
      - url: ${options.webhookUrl}
        send_resolved: true${
          options.maxAlerts === undefined
            ? ''
            : `
        max_alerts: ${options.maxAlerts}`
        }${auth}
`,
  );
  const am = launchAlertmanager({ configFile, dataDir: join(dir.path, 'data'), port });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await am.stop();
    await dir.remove();
  };
  try {
    await waitFor(`alertmanager on ${port}`, async () => (await fetch(`${url}/-/ready`)).ok, {
      timeoutMs: 15_000,
      intervalMs: 100,
      processes: [am],
    });
  } catch (error) {
    await stop();
    throw error;
  }
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
    process: am,
    stop,
  };
}
