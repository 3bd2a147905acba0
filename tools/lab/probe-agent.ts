import { join } from 'node:path';
import type { HarnessProcess } from '../harness/process.js';
import { waitFor } from '../harness/wait.js';
import type { Lab } from './lab.js';
import type { ProbeRound, WriteProbe } from './write-probe.js';

/** The write probe as a separate process (write-probe-agent.ts) where the lab's client lives, read from its stdout. */
export interface ProbeAgent extends WriteProbe {
  /** Every round in which some member accepted the write, oldest first. */
  rounds(): readonly ProbeRound[];
  readonly process: HarnessProcess;
}

/**
 * Starts the agent through `lab.spawnClient` (in the client's namespace in the partition lab) with the members'
 * addresses, and resolves once it runs. The password goes through the environment, never the command line.
 */
export async function startProbeAgent(lab: Lab, options: { root: string; key: string; intervalMs?: number }): Promise<ProbeAgent> {
  const config = {
    members: lab.members.map((member) => ({ name: member.name, host: member.host, port: member.port })),
    key: options.key,
    intervalMs: options.intervalMs ?? 50,
  };
  const agent = lab.spawnClient(process.execPath, ['--import', 'tsx', join(options.root, 'tools', 'lab', 'write-probe-agent.ts')], {
    name: 'write-probe',
    cwd: options.root,
    env: { PATH: process.env.PATH ?? '', WRITE_PROBE_CONFIG: JSON.stringify(config), REDIS_PASSWORD: lab.password },
  });
  const rounds: ProbeRound[] = [];
  let started = false;
  let pending = '';
  agent.child.stdout?.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      const parsed = JSON.parse(line) as ProbeRound | { started: number };
      if ('round' in parsed) rounds.push(parsed);
      else started = true;
    }
  });
  lab.keep(agent);
  await waitFor('the write probe to start', () => started, { timeoutMs: 30_000, processes: [agent] });
  let stopping: Promise<void> | undefined;
  return {
    process: agent,
    rounds: () => rounds,
    writesAfter: (name, after) => rounds.flatMap((round) => round.accepted[name] ?? []).filter((at) => at > after),
    stop() {
      stopping ??= agent.stop(3000);
      return stopping;
    },
  };
}
