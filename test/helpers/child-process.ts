import type { SpawnOptions } from 'node:child_process';
import { startManagedProcess, type ManagedProcess } from '../../tools/lab/managed-process.js';

/** A child started by a test (the same process management the lab uses). */
export type TestProcess = ManagedProcess;

/** Spawns a process in its own process group so a test can kill everything it started. */
export function startProcess(command: string, args: readonly string[], options: SpawnOptions = {}): TestProcess {
  return startManagedProcess(command, command, args, options);
}
