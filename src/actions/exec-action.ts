import { spawn } from 'node:child_process';
import { z } from 'zod';
import { durationSchema } from '../core/duration.js';
import { isTemplated } from '../core/template/template.js';
import { defineAction, permanentError, transientError, truncateOutput } from '../core/action.js';
import { describeSpawned, groupRuns, signalGroup } from '../util/process-group.js';

/**
 * A string handed to the program. The OS cannot pass a NUL byte (it ends a C string), so spawn would throw, and a
 * retry cannot fix that: refused here, the step fails permanently instead of being retried.
 */
const osString = z.string().refine((value) => !value.includes('\0'), 'must not contain a NUL byte');

const execSchema = z.strictObject({
  /** argv: the program and its arguments. Never run through a shell. */
  command: z.array(osString).min(1, 'needs at least the program'),
  env: z.record(z.string(), osString).default({}),
  cwd: osString.optional(),
  /** Exit codes that count as success. */
  successCodes: z.array(z.number().int()).default([0]),
  /** How much of stdout/stderr is kept in the run, from the end. */
  maxOutputBytes: z
    .number()
    .int()
    .positive()
    .max(1024 * 1024)
    .default(16 * 1024), // 16 KiB
  /** Grace between SIGTERM and SIGKILL when the step times out. */
  killAfter: durationSchema.default(2000),
});

/** Runs a program with an argv array (no shell), a timeout, and bounded captured output. */
export function createExecAction(options: { baseEnv?: Readonly<Record<string, string | undefined>> } = {}) {
  return defineAction({
    name: 'exec',
    description: 'Run a program with an argv array, no shell.',
    schema: execSchema,
    defaultTimeoutMs: 60_000,
    // A label may name a directory below the one the playbook writes, never climb out of it or replace it.
    escapesFor: () => ({ cwd: 'path' }),
    checkRaw(raw) {
      const command = raw.command;
      // Which program runs must be fixed in the playbook: a label value may be an argument, never the binary.
      if (Array.isArray(command) && typeof command[0] === 'string' && isTemplated(command[0])) {
        return [{ path: ['command', 0], message: 'the program must not be templated; pass label values as arguments' }];
      }
      return [];
    },
    run(params, { signal, logger, recordProcess }) {
      const [program = '', ...args] = params.command;
      return new Promise((resolve, reject) => {
        // An already-aborted step (timeout, shutdown) must not start the program: the abort listener below never fires for it.
        if (signal.aborted) {
          reject(signal.reason as Error);
          return;
        }
        let stdout = '';
        let stderr = '';
        // Bytes dropped by the rolling cap below, so the "bytes cut" mark counts all of them, not only the last cut.
        let stdoutDropped = 0;
        let stderrDropped = 0;
        const cap = params.maxOutputBytes * 2;
        // In a process group of its own (detached: a new session), so that ending the step ends everything the
        // program started (a script's children too), and so that the group can be found and ended by a later
        // attempt of the run when this process is killed before it could.
        const child = spawn(program, args, {
          shell: false,
          cwd: params.cwd,
          env: { PATH: options.baseEnv?.PATH ?? '/usr/local/bin:/usr/bin:/bin', ...params.env },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        const pid = child.pid;
        const spawned = pid === undefined ? undefined : describeSpawned(pid, params.killAfter);
        // Checkpointed before the step waits on the program; the step ends only once the checkpoint is written.
        const recorded =
          spawned === undefined || recordProcess === undefined
            ? Promise.resolve()
            : recordProcess(spawned).catch((error: unknown) => {
                logger.warn(
                  { err: error, pid },
                  'could not checkpoint the process of the step: a crash now would leave it to run alongside the retry',
                );
              });
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          const all = stdout + chunk;
          stdout = all.slice(-cap);
          stdoutDropped += Buffer.byteLength(all) - Buffer.byteLength(stdout);
        });
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          const all = stderr + chunk;
          stderr = all.slice(-cap);
          stderrDropped += Buffer.byteLength(all) - Buffer.byteLength(stderr);
        });
        const onAbort = () => {
          if (pid === undefined) return;
          signalGroup(pid, 'SIGTERM');
          // Not cleared when the program exits: its children may ignore SIGTERM and outlive it. Sent only while the
          // group runs: once it is gone, its id may be another group's (pids are reused, 32768 by default).
          setTimeout(() => {
            void (spawned === undefined ? Promise.resolve(true) : groupRuns(spawned)).then((runs) => {
              if (runs) signalGroup(pid, 'SIGKILL');
            });
          }, params.killAfter).unref();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        child.on('error', (error: NodeJS.ErrnoException) => {
          signal.removeEventListener('abort', onAbort);
          // A missing or non-executable program will not appear by retrying.
          if (error.code === 'ENOENT' || error.code === 'EACCES') reject(permanentError(`cannot run ${program}: ${error.code}`, error));
          else reject(transientError(`cannot run ${program}: ${error.message}`, error));
        });
        child.on(
          'close',
          (exitCode, exitSignal) =>
            void recorded.then(() => {
              signal.removeEventListener('abort', onAbort);
              const output = {
                exitCode,
                signal: exitSignal,
                stdout: truncateOutput(stdout, params.maxOutputBytes, stdoutDropped),
                stderr: truncateOutput(stderr, params.maxOutputBytes, stderrDropped),
              };
              logger.debug({ program, exitCode, signal: exitSignal }, 'exec finished');
              if (exitCode !== null && params.successCodes.includes(exitCode)) resolve(output);
              else {
                const how = exitCode === null ? `killed by ${exitSignal ?? 'a signal'}` : `exited with ${exitCode}`;
                const tail = output.stderr.trim().split('\n').at(-1) ?? '';
                reject(transientError(`${program} ${how}${tail ? `: ${tail}` : ''}`));
              }
            }),
        );
      });
    },
  });
}
