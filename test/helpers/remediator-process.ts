import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/util/free-port.js';
import { startProcess, type TestProcess } from './child-process.js';
import { waitFor } from './wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** `remediator serve` as a separate process (for crash, replica and start-up tests). */
export interface RemediatorProcess extends TestProcess {
  readonly url: string;
}

/** Runs `node --import tsx src/main.ts <args>` with `env` on top of a minimal environment. */
export function runRemediator(args: string[], env: Record<string, string>): TestProcess {
  return startProcess(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...env },
  });
}

/** Starts `remediator serve` on a free port and waits until /healthz answers. */
export async function startRemediatorProcess(env: Record<string, string>, args: string[] = []): Promise<RemediatorProcess> {
  const port = await freePort();
  const running = runRemediator(['serve', ...args], { HOST: '127.0.0.1', PORT: String(port), ...env });
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  void running.exited.then(() => { exited = true; });
  await waitFor(`remediator on ${port}`, async () => {
    if (exited) throw new Error(`remediator exited early:\n${running.output()}`);
    return (await fetch(`${url}/healthz`)).ok;
  }, 30_000, 100);
  return Object.assign(running, { url });
}
