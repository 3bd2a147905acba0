// A delaying TCP proxy, run by the partition harness (netns.ts) inside a member's namespace: the kernel here has no
// netem qdisc, so latency is added in user space. Every chunk, in either direction, is forwarded `delay` ms after it
// arrived (timers of one delay fire in order, so the stream stays in order); an end or an error is passed on after
// the same delay.
//   node --import tsx tools/harness/delay-proxy.ts LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS
// It prints `listening HOST:PORT` once it accepts connections.
import { createConnection, createServer, type Socket } from 'node:net';

const [listenHost = '', listenPort = '', targetHost = '', targetPort = '', delay = ''] = process.argv.slice(2);
const delayMs = Number(delay);
if (!listenHost || !targetHost || !Number.isInteger(Number(listenPort)) || !Number.isInteger(Number(targetPort)) || !(delayMs >= 0)) {
  process.stderr.write('usage: delay-proxy LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS\n');
  process.exit(2);
}

/** Forwards `from` to `to`, each chunk and the end `delayMs` later. */
function forward(from: Socket, to: Socket): void {
  from.on('data', (chunk) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, delayMs);
  });
  from.on('end', () => {
    setTimeout(() => {
      if (!to.destroyed) to.end();
    }, delayMs);
  });
  from.on('close', () => {
    setTimeout(() => to.destroy(), delayMs);
  });
  from.on('error', () => undefined);
}

const server = createServer((client) => {
  const upstream = createConnection({ host: targetHost, port: Number(targetPort) });
  forward(client, upstream);
  forward(upstream, client);
});
server.listen(Number(listenPort), listenHost, () => {
  process.stdout.write(`listening ${listenHost}:${listenPort}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
