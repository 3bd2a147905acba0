import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

/** RTMP protocol version carried in C0/S0. */
const rtmpVersion = 3;
/** Size of C1, C2, S1 and S2. */
const handshakeChunk = 1536;
/** S0 + S1 + S2: everything the server sends before it waits for our C2. */
const serverHandshakeLength = 1 + 2 * handshakeChunk;

/**
 * Performs a plain RTMP handshake (C0+C1 → S0+S1+S2 → C2 echoing S1) with `host:port` and resolves true when it
 * completed, false on any failure: refused, reset, wrong version, closed early, or `signal` aborting first.
 * A TCP connect alone is not enough: a wedged server still accepts connections, cameras need it to answer.
 */
export function probeRtmpHandshake(host: string, port: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const received: Buffer[] = [];
    let receivedLength = 0;
    let settled = false;
    let c2Sent = false;
    const finish = (completed: boolean) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(completed);
    };
    const onAbort = () => {
      finish(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });

    socket.setNoDelay(true);
    socket.once('connect', () => {
      // C1: 4 bytes time, 4 zero bytes, 1528 random bytes. The zero bytes ask for the plain handshake: a version
      // there would ask Flash-era servers for the digest handshake, which proves nothing more about liveness.
      const c1 = Buffer.alloc(handshakeChunk);
      randomBytes(handshakeChunk - 8).copy(c1, 8);
      socket.write(Buffer.concat([Buffer.from([rtmpVersion]), c1]));
    });
    socket.on('data', (data: Buffer) => {
      if (settled || c2Sent) return;
      received.push(data);
      receivedLength += data.length;
      const all = Buffer.concat(received);
      if (all[0] !== rtmpVersion) {
        finish(false);
        return;
      }
      if (receivedLength < serverHandshakeLength) return;
      // S2 is not checked against C1: servers that answer with the digest scheme send something else there, and a
      // server that got this far has proven it speaks RTMP. Success is C2 written, which the server waits for.
      c2Sent = true;
      socket.write(all.subarray(1, 1 + handshakeChunk), (error) => {
        finish(error === undefined || error === null);
      });
    });
    socket.on('error', () => {
      finish(false);
    });
    socket.on('end', () => {
      finish(false);
    });
    socket.on('close', () => {
      finish(false);
    });
  });
}
