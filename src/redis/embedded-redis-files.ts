import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { AppError, errorCodes } from '../core/errors/index.js';

/** The embedded Redis's directory under DATA_DIR and the password it runs with. */
export interface EmbeddedRedisDir {
  readonly dir: string;
  readonly password: string;
}

/** What `serve` records about the redis-server it runs, so a restarted remediator adopts it. */
export interface EmbeddedRedisState {
  readonly pid: number;
  readonly port: number;
}

const passwordFileName = 'password';
const stateFileName = 'embedded.json';
// Characters that need no quoting in a redis.conf line nor escaping in a URL; a hand-written one must keep to them.
const passwordPattern = /^[A-Za-z0-9._~-]{16,512}$/;

/**
 * `{ pid, port }`; earlier versions wrote `{ pid, url }` with a password-less URL, read here so that their
 * unprotected server is found and replaced. The password lives in its own file, never in the state.
 */
const stateSchema = z.union([
  z.object({ pid: z.number().int().positive(), port: z.number().int().min(1).max(65_535) }),
  z.object({ pid: z.number().int().positive(), url: z.string() }).transform(({ pid, url }, ctx) => {
    const port = Number(/^redis:\/\/[^/]*:(\d+)\/?$/.exec(url)?.[1]);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      ctx.addIssue({ code: 'custom', message: 'no port in url' });
      return z.NEVER;
    }
    return { pid, port };
  }),
]);

/** The URL of the embedded Redis on `port` (loopback), carrying the password. */
export function embeddedRedisUrl(port: number, password: string): string {
  return `redis://:${password}@127.0.0.1:${port}`;
}

/**
 * Makes DATA_DIR/redis private (0700, every file in it 0600, every directory 0700: earlier versions left the AOF
 * 0644) and returns the password, generated on first start and kept in DATA_DIR/redis/password (0600) so that a
 * restart reuses it. Runs before the logger exists, so the logger can mask the password from its first line.
 */
export async function prepareEmbeddedRedisDir(dataDir: string): Promise<EmbeddedRedisDir> {
  const dir = resolve(dataDir, 'redis');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await makePrivate(dir);
  const file = join(dir, passwordFileName);
  try {
    await writeFile(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const password = (await readFile(file, 'utf8')).trim();
  if (!passwordPattern.test(password)) {
    throw new AppError(
      errorCodes.REDIS_START_FAILED,
      `${file} does not hold a usable password (16 to 512 of A-Z a-z 0-9 . _ ~ -); remove it and a new one is generated`,
    );
  }
  return { dir, password };
}

/** The recorded server, if the state file exists and is one remediator wrote. */
export async function readEmbeddedRedisState(dir: string): Promise<EmbeddedRedisState | undefined> {
  try {
    const parsed = stateSchema.safeParse(JSON.parse(await readFile(join(dir, stateFileName), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Records the running server (0600, replaced atomically so a reader never sees half a file). */
export async function writeEmbeddedRedisState(dir: string, state: EmbeddedRedisState): Promise<void> {
  const file = join(dir, stateFileName);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(state), { mode: 0o600 });
  await rename(temporary, file);
}

/** The path of the state file (removed when serve stops its server). */
export function embeddedRedisStateFile(dir: string): string {
  return join(dir, stateFileName);
}

/** The URL of the embedded Redis a `serve` on `dataDir` runs (the demo reads remediator's Redis through it). */
export async function readEmbeddedRedisUrl(dataDir: string): Promise<string> {
  const dir = resolve(dataDir, 'redis');
  const state = await readEmbeddedRedisState(dir);
  if (state === undefined) throw new AppError(errorCodes.REDIS_UNAVAILABLE, `no embedded Redis recorded in ${dir}`);
  return embeddedRedisUrl(state.port, (await readFile(join(dir, passwordFileName), 'utf8')).trim());
}

/** chmod 0700 on `dir` and every directory below it, 0600 on every file. */
async function makePrivate(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makePrivate(path);
    else if (entry.isFile()) await chmod(path, 0o600);
  }
}
