import { request, createServer, type Server } from 'node:http';
import { createConnection } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { startProcess } from './process.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait.js';

/** A real HAProxy on loopback with `backend app` (servers s1, s2) and two admin runtime-API sockets. */
export interface Haproxy {
  /** Unix admin socket path. */
  readonly socket: string;
  /** host:port of the TCP admin socket. */
  readonly adminAddress: string;
  /** http://127.0.0.1:port of the frontend. */
  readonly url: string;
  /** Sends one raw runtime-API command over the unix socket and returns the whole answer. */
  command(text: string): Promise<string>;
  /** s1/s2's row of `show servers state app`, by column name. */
  serverState(server: string): Promise<Record<string, string>>;
  /** GET / through the frontend on a fresh connection; the body is the name of the server that answered. */
  get(): Promise<string>;
  output(): string;
  stop(): Promise<void>;
}

/** Sends `text` + "\n" to a runtime-API socket and reads until HAProxy closes. */
export function runtimeCommand(target: { path: string } | { host: string; port: number }, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(target);
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${text}\n`));
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('end', () => {
      resolve(answer);
    });
    socket.on('error', reject);
  });
}

/** Parses a `show servers state` answer into rows by column name. */
export function parseServersState(answer: string): Record<string, string>[] {
  const lines = answer.split('\n').filter((line) => line.trim() !== '');
  const header = lines.find((line) => line.startsWith('#'));
  if (header === undefined) throw new Error(`no header in: ${answer}`);
  const columns = header.slice(1).trim().split(/\s+/);
  return lines
    .filter((line) => !line.startsWith('#') && line.trim().split(/\s+/).length >= columns.length)
    .map((line) => {
      const values = line.trim().split(/\s+/);
      return Object.fromEntries(columns.map((column, index) => [column, values[index] ?? '']));
    });
}

async function startNamedServer(name: string): Promise<{ server: Server; port: number }> {
  const port = await freePort();
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port };
}

/** Starts HAProxy in the foreground (-db) in front of two node:http servers answering "s1" and "s2". */
export async function startHaproxy(): Promise<Haproxy> {
  const dir = await tempDir('remediator-haproxy-');
  const socket = join(dir.path, 'admin.sock');
  const [adminPort, frontendPort] = [await freePort(), await freePort()];
  const s1 = await startNamedServer('s1');
  const s2 = await startNamedServer('s2');
  const config = join(dir.path, 'haproxy.cfg');
  await writeFile(
    config,
    `global
  stats socket ${socket} mode 600 level admin
  stats socket ipv4@127.0.0.1:${adminPort} level admin

defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s

frontend web
  bind 127.0.0.1:${frontendPort}
  default_backend app

backend app
  balance roundrobin
  server s1 127.0.0.1:${s1.port}
  server s2 127.0.0.1:${s2.port}
`,
  );
  const haproxy = startProcess('haproxy', ['-f', config, '-db']);
  const stopAll = async () => {
    await haproxy.stop();
    for (const { server } of [s1, s2]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    }
    await dir.remove();
  };
  try {
    await waitFor(
      `haproxy admin socket ${socket}`,
      async () => (await runtimeCommand({ path: socket }, 'show info')).includes('Name: HAProxy'),
      {
        timeoutMs: 15_000,
        processes: [haproxy],
      },
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
  const url = `http://127.0.0.1:${frontendPort}`;
  const command = (text: string) => runtimeCommand({ path: socket }, text);
  return {
    socket,
    adminAddress: `127.0.0.1:${adminPort}`,
    url,
    command,
    async serverState(server) {
      const row = parseServersState(await command('show servers state app')).find((candidate) => candidate.srv_name === server);
      if (!row) throw new Error(`no server ${server} in show servers state app`);
      return row;
    },
    get: () =>
      new Promise((resolve, reject) => {
        const req = request(`${url}/`, { agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => {
            resolve(res.statusCode === 200 ? body : `HTTP ${res.statusCode ?? '?'}: ${body}`);
          });
        });
        req.on('error', reject);
        req.end();
      }),
    output: haproxy.output,
    stop: stopAll,
  };
}
