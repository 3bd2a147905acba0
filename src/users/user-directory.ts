import { createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from '../util/safe-equal.js';
import { hashPassword, verifyPassword } from './password-hash.js';
import type { Role } from './roles.js';
import type { UserRecord } from './users-file.js';

/** Who a password proved to be. */
export interface KnownUser {
  name: string;
  role: Role;
}

/** Checks a user name and password against ADMIN_USER/ADMIN_PASSWORD and USERS_FILE. */
export interface UserDirectory {
  /** The user, when the password is theirs; undefined otherwise (unknown user and wrong password look alike). */
  verify(name: string, password: string): Promise<KnownUser | undefined>;
  /** True when any password may be checked at all. */
  readonly configured: boolean;
}

/** How long, and for how many credentials, a checked password is remembered. */
export interface VerifiedCacheOptions {
  ttlMs: number;
  maxEntries: number;
  now: () => number;
}

/** Five minutes, a thousand credentials: a browser's queue UI polls every few seconds, each request with basic auth. */
export const defaultVerifiedCache: VerifiedCacheOptions = { ttlMs: 5 * 60_000, maxEntries: 1000, now: Date.now };

/**
 * Creates the directory. The simple admin (ADMIN_USER/ADMIN_PASSWORD) is compared as a plain secret, the file's
 * users by scrypt. An unknown name is checked against a hash of nothing, so it costs what a known one costs and
 * its answer's timing does not tell which names exist. A correct password is remembered for a while, as an HMAC
 * under a key that lives only in this process: basic auth sends it with every request, and scrypt on each of a
 * browser's requests would cost 0.1 s of CPU apiece. Wrong ones are never remembered.
 */
export function createUserDirectory(
  options: { admin?: { name: string; password: string }; users?: readonly UserRecord[] },
  cacheOptions: VerifiedCacheOptions = defaultVerifiedCache,
): UserDirectory {
  const byName = new Map((options.users ?? []).map((user) => [user.name, user]));
  const key = randomBytes(32);
  const verified = new Map<string, { user: KnownUser; until: number }>();
  let decoy: Promise<string> | undefined;
  const tagOf = (name: string, password: string) =>
    createHmac('sha256', key)
      .update(`${Buffer.byteLength(name)}:${name}`)
      .update(password)
      .digest('base64');
  const check = async (name: string, password: string): Promise<KnownUser | undefined> => {
    const user = byName.get(name);
    if (!user) {
      await verifyPassword(password, await (decoy ??= hashPassword('')));
      return undefined;
    }
    return (await verifyPassword(password, user.passwordHash)) ? { name: user.name, role: user.role } : undefined;
  };
  return {
    configured: options.admin !== undefined || byName.size > 0,
    async verify(name, password) {
      const admin = options.admin;
      if (admin && safeEqual(name, admin.name))
        return safeEqual(password, admin.password) ? { name: admin.name, role: 'admin' } : undefined;
      if (byName.size === 0) return undefined;
      const tag = tagOf(name, password);
      const at = cacheOptions.now();
      const cached = verified.get(tag);
      if (cached && cached.until > at) return cached.user;
      verified.delete(tag);
      const user = await check(name, password);
      if (user) {
        verified.set(tag, { user, until: at + cacheOptions.ttlMs });
        // Insertion order is age order: the oldest goes first.
        for (const oldest of verified.keys()) {
          if (verified.size <= cacheOptions.maxEntries) break;
          verified.delete(oldest);
        }
      }
      return user;
    },
  };
}
