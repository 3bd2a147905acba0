import assert from 'node:assert/strict';
import { appError, runAction } from '../helpers/action-run.js';
import { access, readFile, realpath } from 'node:fs/promises';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ActionDefinition } from '../../src/core/action.js';
import { createExecAction } from '../../src/actions/exec-action.js';
import { errorCodes } from '../../src/core/errors/index.js';
import type { StepProcess } from '../../src/core/run-data.js';
import { isRunning, readProcStat } from '../../src/util/process-status.js';
import { processesMatching } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait.js';

interface ExecOutput {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

const run = (action: ActionDefinition, withBlock: Record<string, unknown>, signal?: AbortSignal) =>
  runAction<ExecOutput>(action, withBlock, signal);

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

describe('exec action', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const action = createExecAction({ baseEnv: { PATH: process.env.PATH } });

  before(async () => {
    dir = await tempDir('remediator-exec-');
  });
  after(async () => {
    await dir.remove();
  });

  test('a command substitution in an argument is passed to the program literally, not run by a shell', async () => {
    const marker = join(dir.path, 'pwned-substitution');
    const argument = `$(touch ${marker})`;
    const output = await run(action, { command: ['printf', '%s', argument] });
    assert.equal(output.stdout, argument);
    assert.equal(await exists(marker), false, 'the substitution must not have created the file');
  });

  test('a semicolon followed by a command in an argument is passed literally and the second command never runs', async () => {
    const marker = join(dir.path, 'pwned-semicolon');
    const argument = `; touch ${marker}`;
    const output = await run(action, { command: ['printf', '%s', argument] });
    assert.equal(output.stdout, argument);
    assert.equal(await exists(marker), false, 'the chained command must not have created the file');
  });

  test('a successful run records exit code 0, no signal, and the captured stdout and stderr', async () => {
    const output = await run(action, { command: ['sh', '-c', 'echo to-stdout; echo to-stderr >&2'] });
    assert.deepEqual(output, { exitCode: 0, signal: null, stdout: 'to-stdout\n', stderr: 'to-stderr\n' });
  });

  test('a non-zero exit is a transient error whose message has the exit code and the last stderr line', async () => {
    const script = 'echo "first line" >&2; echo "disk is full" >&2; exit 7';
    await assert.rejects(run(action, { command: ['sh', '-c', script] }), (error: unknown) => {
      appError(errorCodes.STEP_FAILED, /exited with 7/, /disk is full/)(error);
      assert.doesNotMatch((error as Error).message, /first line/, 'only the last stderr line is quoted');
      return true;
    });
  });

  test('an exit code listed in successCodes counts as success and is recorded', async () => {
    const output = await run(action, { command: ['sh', '-c', 'exit 3'], successCodes: [0, 3] });
    assert.equal(output.exitCode, 3);
  });

  test('an exit code outside a custom successCodes list still fails as transient', async () => {
    await assert.rejects(
      run(action, { command: ['sh', '-c', 'exit 4'], successCodes: [0, 3] }),
      appError(errorCodes.STEP_FAILED, /exited with 4/),
    );
  });

  test('a program that does not exist is a permanent error naming the program', async () => {
    await assert.rejects(
      run(action, { command: ['remediator-no-such-program-xyz', '--help'] }),
      appError(errorCodes.STEP_PERMANENT, /remediator-no-such-program-xyz/, /ENOENT/),
    );
  });

  test('stdout beyond maxOutputBytes keeps only the tail, behind a mark that counts every byte cut', async () => {
    // 2000 lines of 10 bytes: 20000 bytes, far more than the 100 kept.
    const script = 'i=0; while [ $i -lt 2000 ]; do printf "%09d\\n" $i; i=$((i+1)); done';
    const output = await run(action, { command: ['sh', '-c', script], maxOutputBytes: 100 });
    const mark = '[…19900 bytes cut]';
    assert.ok(output.stdout.startsWith(mark), `stdout starts with the cut mark: ${output.stdout.slice(0, 40)}`);
    const tail = output.stdout.slice(mark.length);
    assert.equal(Buffer.byteLength(tail), 100);
    assert.ok(tail.endsWith('000001999\n'), 'the last line is kept');
  });

  test('stderr beyond maxOutputBytes is truncated the same way, keeping its last line', async () => {
    const output = await run(action, {
      command: ['sh', '-c', 'i=0; while [ $i -lt 50 ]; do echo "warning $i" >&2; i=$((i+1)); done'],
      maxOutputBytes: 64,
    });
    assert.match(output.stderr, /^\[…\d+ bytes cut\]/);
    assert.ok(output.stderr.endsWith('warning 49\n'));
    assert.equal(output.stdout, '');
  });

  test('aborting the signal stops a long sleep with SIGTERM, long before it would have ended', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const running = run(action, { command: ['sleep', '30'] }, controller.signal);
    setTimeout(() => {
      controller.abort(new Error('step timed out'));
    }, 200);
    await assert.rejects(running, appError(errorCodes.STEP_FAILED, /killed by SIGTERM/));
    assert.ok(Date.now() - started < 15_000, 'the sleep did not run its 30 s');
  });

  test('a program that ignores SIGTERM is killed with SIGKILL once killAfter has passed', async () => {
    const ready = join(dir.path, 'trap-ready');
    // The shell ignores TERM, then says it is ready; only SIGKILL can end it.
    const script = `trap "" TERM; touch "${ready}"; while :; do sleep 0.1; done`;
    const controller = new AbortController();
    const started = Date.now();
    const running = run(action, { command: ['sh', '-c', script], killAfter: '300ms' }, controller.signal);
    // Keep the rejection observed while waiting for the trap to be in place.
    running.catch(() => undefined);
    await waitFor('the script to install its TERM trap', () => exists(ready), 10_000);
    controller.abort(new Error('step timed out'));
    await assert.rejects(running, appError(errorCodes.STEP_FAILED, /killed by SIGKILL/));
    assert.ok(Date.now() - started < 15_000);
  });

  test('aborting a step ends the processes its program started too, not only the program', async () => {
    const pidFile = join(dir.path, 'grandchild.pid');
    // The shell starts a grandchild and waits on it; the grandchild does not hold the step's output open.
    const script = `sleep 300 > /dev/null 2>&1 & echo $! > "${pidFile}"; wait`;
    const controller = new AbortController();
    const running = run(action, { command: ['sh', '-c', script], killAfter: '300ms' }, controller.signal);
    running.catch(() => undefined);
    const grandchild = Number(
      await waitFor('the grandchild to start', async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim(), 10_000),
    );
    try {
      assert.ok(await isRunning(grandchild));
      controller.abort(new Error('step timed out'));
      await assert.rejects(running, appError(errorCodes.STEP_FAILED, /killed by SIGTERM/));
      await waitFor(`the grandchild ${grandchild} to be gone`, async () => !(await isRunning(grandchild)), 10_000);
    } finally {
      if (await isRunning(grandchild)) process.kill(grandchild, 'SIGKILL');
    }
  });

  test('the program runs in a process group of its own, which is checkpointed with its identity before the step waits on it', async () => {
    const recorded: StepProcess[] = [];
    let release: () => void = () => undefined;
    const checkpointed = new Promise<void>((resolve) => {
      release = resolve;
    });
    const parsed = action.schema.parse({ command: ['sh', '-c', 'ps -o pgid= -p $$'], killAfter: '1s' });
    const output = action.run(parsed, {
      logger: pino({ level: 'silent' }),
      signal: new AbortController().signal,
      runId: 'group-test',
      recordProcess: async (process_) => {
        recorded.push(process_);
        // The step must not end before its checkpoint is written, however fast the program is.
        await checkpointed;
      },
    });
    let settled = false;
    void output.finally(() => {
      settled = true;
    });
    await waitFor('the checkpoint', () => recorded.length === 1, 10_000);
    const [spawned] = recorded;
    assert.ok(spawned);
    // The program has ended and been reaped: a step that did not wait for its checkpoint ends on the close that follows.
    await waitFor('the program to end', async () => (await readProcStat(spawned.pid))?.startTime !== spawned.startTime, 10_000);
    // A whole second step, spawned after that: the first program's close, already pending then, has been handled by its end.
    await run(action, { command: ['true'] });
    assert.equal(settled, false, 'the step waits for its checkpoint');
    release();
    const { stdout } = (await output) as unknown as ExecOutput;
    assert.equal(spawned.pgid, spawned.pid, 'it leads its own group');
    assert.equal(Number(stdout.trim()), spawned.pgid);
    assert.notEqual(spawned.pgid, process.pid);
    assert.equal(spawned.host, hostname());
    assert.equal(spawned.bootId, (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim());
    assert.match(spawned.startTime, /^\d+$/);
    assert.equal(spawned.killAfterMs, 1000);
  });

  test('a signal that is already aborted does not start the program at all', async () => {
    const marker = join(dir.path, 'ran-after-abort');
    const controller = new AbortController();
    const reason = new Error('worker is shutting down');
    controller.abort(reason);
    await assert.rejects(run(action, { command: ['touch', marker] }, controller.signal), (error: unknown) => error === reason);
    // spawn() returns once the program has been executed: a wrongly started touch is running now or has left its trace.
    await waitFor(
      'no touch of the marker to run',
      async () => (await processesMatching((argv) => argv.includes(marker))).length === 0,
      10_000,
    );
    assert.equal(await exists(marker), false, 'the program must not run once the step is aborted');
  });

  test('the program does not inherit the parent environment but gets PATH and the env entries', async () => {
    process.env.REMEDIATOR_TEST_SECRET = 'hunter2';
    try {
      const isolated = createExecAction({ baseEnv: { PATH: process.env.PATH } });
      const output = await run(isolated, { command: ['env'], env: { TARGET_HOST: 'db-1', MODE: 'failover' } });
      const lines = output.stdout.trim().split('\n');
      assert.ok(!output.stdout.includes('REMEDIATOR_TEST_SECRET'), 'the secret must not leak');
      assert.ok(!output.stdout.includes('hunter2'));
      assert.ok(lines.includes(`PATH=${process.env.PATH ?? ''}`), 'PATH comes from baseEnv');
      assert.ok(lines.includes('TARGET_HOST=db-1'));
      assert.ok(lines.includes('MODE=failover'));
      assert.deepEqual(lines.map((line) => line.split('=')[0]).sort(), ['MODE', 'PATH', 'TARGET_HOST']);
    } finally {
      delete process.env.REMEDIATOR_TEST_SECRET;
    }
  });

  test('without a configured PATH the program gets the standard system PATH', async () => {
    const output = await run(createExecAction(), { command: ['env'] });
    assert.equal(output.stdout, 'PATH=/usr/local/bin:/usr/bin:/bin\n');
  });

  test('cwd sets the directory the program runs in', async () => {
    const output = await run(action, { command: ['pwd'], cwd: dir.path });
    assert.equal(output.stdout.trim(), await realpath(dir.path));
  });
});
