import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { StepOutput } from '../../src/core/action.js';
import { createLogAction } from '../../src/actions/log-action.js';

interface LogLine {
  level: number;
  msg: string;
  step?: string;
  jobId?: string;
}

/** A pino logger at `level` whose lines are parsed into `lines`. */
function capturingLogger(level = 'info') {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  return { logger: pino({ level }, destination), lines };
}

async function run(withBlock: Record<string, unknown>, logger: pino.Logger): Promise<StepOutput> {
  const action = createLogAction();
  return action.run(action.schema.parse(withBlock), { logger, signal: new AbortController().signal, runId: 'log-test' });
}

describe('log action', () => {
  test('the message is logged at info by default and returned as the output', async () => {
    const { logger, lines } = capturingLogger();
    const output = await run({ message: 'db-1 is down, starting failover' }, logger);
    assert.deepEqual(output, { message: 'db-1 is down, starting failover' });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.level, 30);
    assert.equal(lines[0].msg, 'db-1 is down, starting failover');
    assert.equal(lines[0].step, 'log');
  });

  test('level warn logs the message at warn', async () => {
    const { logger, lines } = capturingLogger();
    await run({ message: 'replica lag is high', level: 'warn' }, logger);
    assert.deepEqual(
      lines.map((line) => [line.level, line.msg]),
      [[40, 'replica lag is high']],
    );
  });

  test('level error logs the message at error', async () => {
    const { logger, lines } = capturingLogger();
    const output = await run({ message: 'failover did not converge', level: 'error' }, logger);
    assert.deepEqual(
      lines.map((line) => [line.level, line.msg]),
      [[50, 'failover did not converge']],
    );
    assert.deepEqual(output, { message: 'failover did not converge' });
  });

  test('the line is written through the run logger and so carries its bindings', async () => {
    const { logger, lines } = capturingLogger();
    await run({ message: 'noted' }, logger.child({ jobId: 'job-42' }));
    assert.equal(lines[0]?.jobId, 'job-42');
    assert.equal(lines[0].msg, 'noted');
  });

  test('a logger above the chosen level drops the line but the message is still returned', async () => {
    const { logger, lines } = capturingLogger('error');
    const output = await run({ message: 'only in the run record', level: 'warn' }, logger);
    assert.equal(lines.length, 0);
    assert.deepEqual(output, { message: 'only in the run record' });
  });

  test('the schema rejects an empty message and a level other than info, warn or error', () => {
    const action = createLogAction();
    assert.equal(action.schema.safeParse({ message: '' }).success, false);
    assert.equal(action.schema.safeParse({ message: 'x', level: 'debug' }).success, false);
    assert.equal(action.schema.safeParse({ message: 'x', extra: 1 }).success, false);
  });
});
