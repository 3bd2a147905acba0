import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

/** A TCP forwarder on 127.0.0.1 in front of one server, that can refuse new connections while existing ones go on. */
export interface TcpGate {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  /** Refuses (closes at once) the next `count` connections. */
  refuseNext(count: number): void;
  /** Refuses every new connection while on: who is connected keeps talking, nobody new gets through. */
  refuseAll(on: boolean): void;
  close(): Promise<void>;
}

/** Starts a gate forwarding to `target`. */
export async function createTcpGate(target: { host: string; port: number }): Promise<TcpGate> {
  let refuseNext = 0;
  let refuseAll = false;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (refuseAll || refuseNext > 0) {
      refuseNext = Math.max(0, refuseNext - 1);
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: target.host, port: target.port });
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    refuseNext(count) {
      refuseNext = count;
    },
    refuseAll(on) {
      refuseAll = on;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
