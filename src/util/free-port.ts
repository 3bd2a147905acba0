import { createServer } from 'node:net';

/**
 * Below Linux's default ephemeral range (32768–60999). A port the kernel hands out for listen(0) comes from that
 * range, which is also where outgoing connections get their local ports: between "found free" and "bound by the
 * child", a busy test run's own connections could take it (EADDRINUSE). Ports down here are never given out
 * that way, so only another listener can claim one.
 */
const range = { from: 20_000, to: 32_767 };

function tryListen(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => {
      resolve(undefined);
    });
    server.listen(port, host, () => {
      const address = server.address();
      server.close(() => {
        resolve(address && typeof address === 'object' ? address.port : undefined);
      });
    });
  });
}

/**
 * Ports this process handed out recently. A port is free again the moment its check closes, so without this a
 * second call could return the port the first caller has not bound yet (a lab asks for ten at once). Ports are a
 * process-wide resource, which is why this one piece of state lives at module level.
 */
const handedOut = new Map<number, number>();
const rememberMs = 120_000;

/** A free TCP port on `host` for a server started next (a lab process, a test server). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const now = Date.now();
  for (const [port, at] of handedOut) if (now - at > rememberMs) handedOut.delete(port);
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = range.from + Math.floor(Math.random() * (range.to - range.from + 1));
    if (handedOut.has(candidate)) continue;
    const port = await tryListen(candidate, host);
    if (port !== undefined && !handedOut.has(port)) {
      handedOut.set(port, Date.now());
      return port;
    }
  }
  // That range is crowded: fall back to whatever the kernel offers.
  const port = await tryListen(0, host);
  if (port === undefined) throw new Error(`could not allocate a port on ${host}`);
  return port;
}
