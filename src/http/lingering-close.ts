import type { IncomingMessage, ServerResponse } from 'node:http';

/** How much of an unwanted request body is read and dropped before the connection is closed anyway. */
export interface LingerLimits {
  maxBytes: number;
  maxMs: number;
}

/**
 * Answers `req` early with a JSON error and `Connection: close` while its body may still be on its way (a 413 from
 * the Content-Length alone). The answer is written at once, but the connection stays open, reading and dropping
 * the body, until the body ends, `maxBytes` were dropped or `maxMs` passed. Closing at once would make the
 * client's kernel meet a reset while it is still sending, and the client would see EPIPE instead of the answer
 * (nginx's lingering_close, for the same reason). The limits keep a client announcing gigabytes from being read
 * to the end.
 */
export function answerThenLinger(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, limits: LingerLimits): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    Connection: 'close',
  });
  // The whole answer is on the wire now; end() only lets Node close the connection, so it waits for the body.
  res.write(text);
  let dropped = 0;
  const finish = () => {
    clearTimeout(timer);
    req.off('data', onData);
    if (!res.writableEnded) res.end();
  };
  const onData = (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > limits.maxBytes) finish();
  };
  const timer = setTimeout(finish, limits.maxMs);
  req.on('data', onData);
  req.once('end', finish);
  req.once('error', finish);
  req.once('close', finish);
}
