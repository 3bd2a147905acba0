import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, chown, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../src/util/free-port.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait.js';

/** One real PostgreSQL server on 127.0.0.1, owned by a test or a lab. */
export interface PostgresServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** host:port, as written in an inventory. */
  readonly address: string;
  readonly dataDir: string;
  /** Starts it again (pg_ctl -w: returns when it accepts connections). */
  start(): Promise<void>;
  /** pg_ctl stop; `immediate` is a crash (no shutdown checkpoint, crash recovery on the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  restart(): Promise<void>;
  /** Runs one statement on a fresh connection (closed afterwards) as the superuser. */
  query<Row extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** A connected client (the caller ends it). */
  connect(): Promise<pg.Client>;
  /** The server log, for failure messages. */
  log(): Promise<string>;
  /**
   * Sends `signal` to the postmaster and every process it started: SIGSTOP hangs the whole server (connections
   * complete from the listen backlog, nothing answers), SIGCONT resumes it, SIGKILL crashes it.
   */
  signal(signal: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): Promise<void>;
  /**
   * Makes this stopped server a standby of `source` (a running primary): pg_rewind from it, with -R (standby.signal,
   * primary_conninfo naming it), its own address and name kept. The servers need wal_log_hints = on (or checksums).
   */
  rewind(source: Upstream): Promise<void>;
}

/** Where a standby streams from: a server, or an address that forwards to one. */
export type Upstream = Pick<PostgresServer, 'name' | 'host' | 'port'>;

/** Servers sharing one temp dir and one superuser password; `cleanup` stops them all and removes the dir. */
export interface PostgresSandbox {
  readonly user: string;
  readonly password: string;
  /**
   * initdb + start, with a password for the superuser and replication allowed from 127.0.0.1; `settings` are extra
   * postgresql.conf lines (its standbys copy them). Every server runs with cluster_name = its name, which is also
   * the application_name its WAL receiver gives its upstream.
   */
  startPrimary(name: string, settings?: readonly string[], placement?: PostgresPlacement): Promise<PostgresServer>;
  /** pg_basebackup -R from `upstream`, then start; resolves once it streams. */
  startStandby(name: string, upstream: Upstream, placement?: PostgresPlacement): Promise<PostgresServer>;
  cleanup(): Promise<void>;
}

/** The server programs: Debian keeps initdb and pg_ctl off PATH, under /usr/lib/postgresql/<version>/bin. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((entry) => /^\d+(\.\d+)?$/.test(entry) && existsSync(join(root, entry, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

const execFileAsync = promisify(execFile);
const binDir = postgresBinDir();
const program = (name: string) => (binDir === undefined ? name : join(binDir, name));
/** initdb refuses to run as root: as root, the server programs run as the postgres user. */
const asRoot = process.getuid?.() === 0;

/** Wraps a command to run elsewhere, e.g. inside a network namespace (NetLab.command). */
export type CommandWrapper = (command: string, args: readonly string[]) => { command: string; args: string[] };

/** Where a server listens: 127.0.0.1 by default, or a lab address with its commands run inside the node's namespace. */
export interface PostgresPlacement {
  host: string;
  /** Runs the server programs (pg_ctl, pg_basebackup) inside the node's namespace. */
  wrap: CommandWrapper;
}

function run(
  name: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; wrap?: CommandWrapper | undefined },
): Promise<string> {
  const [user, userArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', program(name), ...args]] : [program(name), [...args]];
  const { command, args: argv } = options.wrap ? options.wrap(user, userArgs) : { command: user, args: userArgs };
  return new Promise((resolve, reject) => {
    execFile(command, argv, { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${name} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

let postgresIds: Promise<{ uid: number; gid: number }> | undefined;

/** Hands `path` to the postgres user, when the server programs run as that user. */
async function chownToPostgres(path: string): Promise<void> {
  if (!asRoot) return;
  postgresIds ??= Promise.all([execFileAsync('id', ['-u', 'postgres']), execFileAsync('id', ['-g', 'postgres'])]).then(([uid, gid]) => ({
    uid: Number(uid.stdout.trim()),
    gid: Number(gid.stdout.trim()),
  }));
  const { uid, gid } = await postgresIds;
  await chown(path, uid, gid);
}

/** A sandbox of PostgreSQL servers in a fresh temp dir. */
export async function createPostgresSandbox(
  options: { password?: string; /** A lab subnet (CIDR) allowed in pg_hba besides 127.0.0.1. */ network?: string } = {},
): Promise<PostgresSandbox> {
  const dir = await tempDir('remediator-pg-');
  await chownToPostgres(dir.path);
  const user = 'postgres';
  // Quote, backslash and space: the password passes through primary_conninfo, which must stay correctly quoted.
  const password = options.password ?? `pw '${Math.random().toString(36).slice(2, 10)}\\x`;
  const pwfile = join(dir.path, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  await chownToPostgres(pwfile);
  const servers: PostgresServer[] = [];

  const configure = (dataDir: string, lines: string[]) =>
    appendFile(join(dataDir, 'postgresql.conf'), `\n# remediator test\n${lines.join('\n')}\n`);
  /** After a copy of another server's data dir (its port and name came along): the last setting wins. */
  const keepOwnAddress = (instance: Pick<PostgresServer, 'dataDir' | 'host' | 'port' | 'name'>) =>
    configure(instance.dataDir, [`listen_addresses = '${instance.host}'`, `port = ${instance.port}`, `cluster_name = '${instance.name}'`]);

  const server = (name: string, port: number, placement?: PostgresPlacement): PostgresServer => {
    const host = placement?.host ?? '127.0.0.1';
    const wrap = placement?.wrap;
    const dataDir = join(dir.path, name);
    const logFile = join(dir.path, `${name}.log`);
    const log = () => readFile(logFile, 'utf8').catch(() => '');
    const pgCtl = async (args: string[]) => {
      try {
        await run('pg_ctl', ['-D', dataDir, ...args], { cwd: dir.path, wrap });
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- ${name}.log ---\n${(await log()).slice(-4000)}`, { cause: error });
      }
    };
    const connect = async () => {
      const client = new pg.Client({ host, port, user, password, database: 'postgres', connectionTimeoutMillis: 5000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      return client;
    };
    const instance: PostgresServer = {
      name,
      host,
      port,
      address: `${host}:${port}`,
      dataDir,
      start: () => pgCtl(['-l', logFile, '-w', '-t', '60', 'start']),
      stop: (mode = 'fast') => pgCtl(['-m', mode, '-w', '-t', '60', 'stop']),
      async restart() {
        await instance.stop();
        await instance.start();
      },
      async query<Row extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
        const client = await connect();
        try {
          return (await client.query<Row>(sql, params)).rows;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      connect,
      log,
      async signal(signal) {
        const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
        const children = await childrenOf(pid);
        // SIGKILL: the postmaster first, or it sees a child die and starts crash recovery (new children) before its
        // own turn. SIGSTOP: the children first, so that no child sees a stopped postmaster and leaves on its own.
        const order = signal === 'SIGKILL' ? [pid, ...children] : [...children, pid];
        for (const target of order) {
          try {
            process.kill(target, signal);
          } catch (error) {
            // A child that exited since it was listed (an autovacuum worker, a backend) is fine.
            if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
          }
        }
      },
      async rewind(source) {
        await run(
          'pg_rewind',
          ['-D', dataDir, '--source-server', `host=${source.host} port=${source.port} user=${user} dbname=postgres`, '-R'],
          {
            cwd: dir.path,
            env: { PGPASSWORD: password },
            wrap,
          },
        );
        await keepOwnAddress(instance);
      },
    };
    servers.push(instance);
    return instance;
  };

  return {
    user,
    password,
    async startPrimary(name, settings = [], placement) {
      const port = await freePort();
      const instance = server(name, port, placement);
      await run(
        'initdb',
        ['-D', instance.dataDir, '-U', user, '--pwfile', pwfile, '--auth=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync'],
        { cwd: dir.path },
      );
      await configure(instance.dataDir, [
        `listen_addresses = '${instance.host}'`,
        `port = ${port}`,
        `unix_socket_directories = '${dir.path}'`,
        'wal_level = replica',
        'max_wal_senders = 10',
        'hot_standby = on',
        "wal_keep_size = '256MB'",
        'fsync = off',
        "shared_buffers = '32MB'",
        'max_connections = 40',
        ...settings,
        `cluster_name = '${name}'`,
      ]);
      await writeFile(
        join(instance.dataDir, 'pg_hba.conf'),
        [
          'local all all scram-sha-256',
          'host all all 127.0.0.1/32 scram-sha-256',
          'host replication all 127.0.0.1/32 scram-sha-256',
          ...(options.network === undefined
            ? []
            : [`host all all ${options.network} scram-sha-256`, `host replication all ${options.network} scram-sha-256`]),
          '',
        ].join('\n'),
      );
      await instance.start();
      return instance;
    },
    async startStandby(name, upstream, placement) {
      const port = await freePort();
      const instance = server(name, port, placement);
      await run(
        'pg_basebackup',
        [
          '-h',
          upstream.host,
          '-p',
          String(upstream.port),
          '-U',
          user,
          '-D',
          instance.dataDir,
          '-R',
          '-X',
          'stream',
          '-c',
          'fast',
          '--no-sync',
        ],
        {
          cwd: dir.path,
          env: { PGPASSWORD: password },
          wrap: placement?.wrap,
        },
      );
      await keepOwnAddress(instance);
      await instance.start();
      await waitFor(
        `${name} to stream from ${upstream.name}`,
        async () => {
          const [row] = await instance.query<{ status: string }>('SELECT status FROM pg_stat_wal_receiver');
          return row?.status === 'streaming';
        },
        30_000,
        100,
      );
      return instance;
    },
    async cleanup() {
      for (const instance of servers.splice(0)) {
        try {
          await instance.stop('immediate');
        } catch {
          // pg_ctl could not stop it (or it was not running): kill its postmaster, if that pid is really ours.
          const pid = Number((await readFile(join(instance.dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
          const command = pid > 0 ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
          if (command.includes(instance.dataDir)) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }
      }
      await dir.remove();
    },
  };
}

/** The processes whose parent is `pid` (a postmaster's backends and auxiliary processes). */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the command (which may hold spaces and parentheses): state, then the parent's pid.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === pid) children.push(Number(entry));
  }
  return children;
}

/** Waits until `standby` has replayed everything `primary` has written so far. */
export async function caughtUp(primary: PostgresServer, standby: PostgresServer, timeoutMs = 30_000): Promise<void> {
  const [row] = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  const lsn = row?.lsn ?? '0/0';
  await waitFor(
    `${standby.name} to replay up to ${lsn}`,
    async () => {
      const [replayed] = await standby.query<{ done: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [lsn]);
      return replayed?.done === true;
    },
    timeoutMs,
    50,
  );
}
