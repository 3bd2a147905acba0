import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { promisify } from 'node:util';

/** The machine a benchmark ran on. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  redis: string;
  /** 1-minute load average when the run started: other work on a shared machine shows here. */
  loadAverageAtStart: number;
}

/** Reads the CPU model from /proc/cpuinfo (os.cpus() as a fallback), node's and redis-server's versions. */
export async function machineInfo(): Promise<MachineInfo> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const redis = await promisify(execFile)('redis-server', ['--version']).then(
    ({ stdout }) => /v=(\S+)/.exec(stdout)?.[1] ?? stdout.trim(),
    () => 'not found',
  );
  return {
    cpu: model.trim(),
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    redis,
    loadAverageAtStart: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
