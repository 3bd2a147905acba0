import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt's cost parameters: N (CPU and memory, a power of two), r (block size), p (parallelism). */
export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/** The cost of new hashes: 2^15 × 8 × 128 B = 32 MiB and about 0.1 s per check, so a stolen file is slow to guess. */
export const defaultScryptCost: ScryptCost = { N: 2 ** 15, r: 8, p: 1 };

const saltBytes = 16;
const keyBytes = 32;

/** The highest cost a stored hash may ask for: a file cannot make one check take more than 256 MiB. */
const maxMemoryBytes = 256 * 1024 * 1024;

/** `scrypt$N$r$p$salt$hash`, salt and hash in unpadded base64url: the hash carries its own parameters. */
export const passwordHashPattern = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;

/** A stored hash, decoded. */
interface ParsedHash extends ScryptCost {
  salt: Buffer;
  hash: Buffer;
}

/** Decodes a stored hash, or says why it is not one (the users file reports it at start-up). */
export function parsePasswordHash(encoded: string): { success: true; hash: ParsedHash } | { success: false; message: string } {
  const match = passwordHashPattern.exec(encoded);
  if (!match) return { success: false, message: 'not a password hash: make one with `remediator hash-password` (scrypt$N$r$p$salt$hash)' };
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (N < 2 || (N & (N - 1)) !== 0) return { success: false, message: `scrypt N must be a power of two above 1, not ${N}` };
  if (r < 1 || p < 1 || p > 16)
    return { success: false, message: `scrypt r and p must be at least 1 (and p at most 16), not r=${r} p=${p}` };
  if (memoryOf({ N, r, p }) > maxMemoryBytes)
    return { success: false, message: `scrypt cost N=${N} r=${r} needs more than 256 MiB per check` };
  return {
    success: true,
    hash: { N, r, p, salt: Buffer.from(match[4] ?? '', 'base64url'), hash: Buffer.from(match[5] ?? '', 'base64url') },
  };
}

/** Hashes `password` with a fresh random salt. */
export async function hashPassword(password: string, cost: ScryptCost = defaultScryptCost): Promise<string> {
  const salt = randomBytes(saltBytes);
  const hash = await derive(password, salt, keyBytes, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** True when `password` is the one `encoded` was made from; compared in constant time. False for a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded);
  if (!parsed.success) return false;
  const { hash, salt, ...cost } = parsed.hash;
  const given = await derive(password, salt, hash.length, cost);
  return timingSafeEqual(given, hash);
}

const memoryOf = (cost: ScryptCost): number => 128 * cost.N * cost.r * (cost.p + 1);

function derive(password: string, salt: Buffer, length: number, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // node's default maxmem (32 MiB) is exactly the default cost's need, which it refuses: leave room.
    scrypt(password, salt, length, { ...cost, maxmem: memoryOf(cost) + 1024 * 1024 }, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}
