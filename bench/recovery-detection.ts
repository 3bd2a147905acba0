import { createServer } from 'node:http';
import { freePort } from '../src/util/free-port.js';
import { sourceCommand } from '../tools/harness/remediator-process.js';
import { repoRoot as root } from '../tools/harness/repo-root.js';
import { findLabPrograms, startLab } from '../tools/lab/lab.js';

/** How the primary fails: SIGKILL (its port refuses at once) or SIGSTOP (it hangs: connections queue, nothing answers). */
export type LabFault = 'kill' | 'pause';

/**
 * The detection floor: the lab's topology (tools/lab/lab.ts: a password-protected primary and two replicas,
 * `remediator exporter`, Prometheus and Alertmanager configured from prometheus/ and rules/, and the background
 * stream cluster, so the exporter probes the same inventory and the machine carries the same load) with
 * Alertmanager's webhook going to a recorder that only notes when PrimaryUnreachable for the primary arrives. The
 * recorder also stands in for remediator's scrape target (an empty /metrics), so Prometheus has the same jobs. The
 * readiness checks before the fault are the lab's. A paused primary is resumed (SIGCONT) before the lab stops.
 */
export async function detectionRound(fault: LabFault, log: (line: string) => void): Promise<number> {
  const found = await findLabPrograms();
  if (!found.found)
    throw new Error(
      `missing ${found.missingPackages.join(', ')}: run \`npm run bootstrap\` as root, or apt-get install --no-install-recommends ${found.missingPackages.join(' ')}`,
    );
  const arrivals: { at: number; firing: boolean }[] = [];
  const recorder = await startRecorder(arrivals);
  try {
    const lab = await startLab({
      programs: found.programs,
      root,
      self: sourceCommand(),
      prefix: 'remediator-bench-detection-',
      log,
      receiver: { name: 'the recorder', port: recorder.port, start: () => Promise.resolve() },
    });
    let paused: number | undefined;
    try {
      log('waiting for the exporter, Prometheus and Alertmanager…');
      await lab.ready();
      const primary = lab.member('cache-a').server.process();
      const faultAt = Date.now();
      if (fault === 'kill') {
        log('FAULT: SIGKILL of the primary');
        await lab.crash('cache-a');
      } else {
        log('FAULT: SIGSTOP of the primary');
        process.kill(primary.pid, 'SIGSTOP');
        paused = primary.pid;
      }
      const webhookAt = await lab.waitFor(
        'the PrimaryUnreachable webhook for the primary',
        () => arrivals.find((arrival) => arrival.firing && arrival.at > faultAt)?.at,
        60_000,
        10,
      );
      return round3((webhookAt - faultAt) / 1000);
    } finally {
      if (paused !== undefined) process.kill(paused, 'SIGCONT');
      await lab.stop();
    }
  } finally {
    await recorder.close();
  }
}

/** The recorder: Alertmanager's webhook receiver and remediator's stand-in scrape target, on a free port. */
async function startRecorder(arrivals: { at: number; firing: boolean }[]): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/webhooks/alertmanager') {
        const at = Date.now();
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            alerts?: { status?: string; labels?: Record<string, string> }[];
          };
          for (const alert of body.alerts ?? []) {
            if (alert.labels?.alertname === 'PrimaryUnreachable' && alert.labels.instance === 'cache-a')
              arrivals.push({ at, firing: alert.status === 'firing' });
          }
        } catch {
          // not an Alertmanager payload: not what is measured
        }
        response.writeHead(200).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(request.url === '/metrics' ? '' : 'ok');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve();
    });
  });
  return {
    port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
