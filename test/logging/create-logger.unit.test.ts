import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { createLogger } from '../../src/logging/create-logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  test('writes one JSON object per line with a string level and an ISO time', () => {
    const { lines, destination } = capture();
    createLogger({ level: 'info', destination }).info({ jobId: 'j1' }, 'hello');
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.equal(entry.level, 'info');
    assert.equal(entry.msg, 'hello');
    assert.equal(entry.jobId, 'j1');
    assert.match(String(entry.time), /^\d{4}-\d\d-\d\dT/);
  });

  test('masks authorization headers, passwords and tokens by path', () => {
    const { lines, destination } = capture();
    createLogger({ level: 'info', destination }).info(
      { req: { headers: { authorization: 'Bearer abc' } }, smtp: { password: 'p4ss' }, auth: { token: 't0k' } },
      'request',
    );
    const text = lines.join('\n');
    for (const secret of ['Bearer abc', 'p4ss', 't0k']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    assert.match(text, /\[redacted\]/);
  });

  test('masks configured secret values wherever they appear, even inside messages and error texts', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ level: 'debug', destination, secrets: ['hunter2-secret', 'webhook-token-xyz'] });
    logger.error({ err: new Error('connect smtp://ops:hunter2-secret@mail failed') }, 'token was webhook-token-xyz');
    logger.child({ runId: 'r' }).debug({ url: 'http://x/?t=webhook-token-xyz' }, 'child line');
    const text = lines.join('\n');
    assert.equal(lines.length, 2);
    assert.ok(!text.includes('hunter2-secret'), text);
    assert.ok(!text.includes('webhook-token-xyz'), text);
    assert.match(lines[0] ?? '', /token was \[redacted\]/);
    assert.match(lines[1] ?? '', /t=\[redacted\]/);
  });

  test('masks a secret with quotes or backslashes in its JSON-escaped form, and a secret inside a URL in its percent-encoded form', () => {
    const { lines, destination } = capture();
    const secret = 'pa"ss\\wo/rd@1';
    createLogger({ level: 'info', destination, secrets: [secret] }).warn(
      { err: new Error(`stderr: ${secret}`), url: `http://x/hook/${encodeURIComponent(secret)}` },
      secret,
    );
    const text = lines.join('\n');
    for (const form of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])
      assert.ok(!text.includes(form), `${form} leaked: ${text}`);
    const entry = JSON.parse(lines[0] ?? '') as { msg: string; url: string; err: { message: string } };
    assert.equal(entry.msg, '[redacted]');
    assert.equal(entry.url, 'http://x/hook/[redacted]');
    assert.equal(entry.err.message, 'stderr: [redacted]');
  });
});
