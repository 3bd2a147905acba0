import { freePort } from '../../src/util/free-port.js';
import type { TestProcess } from './child-process.js';
import { runRemediator } from './remediator-process.js';
import { waitFor } from './wait.js';

/** `remediator exporter` as a separate process. */
export interface ExporterProcess extends TestProcess {
  /** host:port, as a Prometheus scrape target. */
  readonly address: string;
  readonly url: string;
}

/**
 * Starts `remediator exporter` on loopback and a free port for `inventoryFile` and waits until /healthz answers.
 * `remediationsDir` needs no playbooks: the exporter reads only the inventory.
 */
export async function startExporterProcess(options: { inventoryFile: string; remediationsDir: string; env?: Record<string, string> }): Promise<ExporterProcess> {
  const port = await freePort();
  const running = runRemediator(['exporter', '--port', String(port)], {
    INVENTORY_FILE: options.inventoryFile,
    REMEDIATIONS_DIR: options.remediationsDir,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ...options.env,
  });
  const address = `127.0.0.1:${port}`;
  const url = `http://${address}`;
  let exited = false;
  void running.exited.then(() => { exited = true; });
  try {
    await waitFor(`the exporter on ${port}`, async () => {
      if (exited) throw new Error(`the exporter exited early:\n${running.output()}`);
      return (await fetch(`${url}/healthz`)).ok;
    }, 30_000, 100);
  } catch (error) {
    await running.stop();
    throw error;
  }
  return Object.assign(running, { address, url });
}
