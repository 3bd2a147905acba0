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

/**
 * Creates the directory. The simple admin (ADMIN_USER/ADMIN_PASSWORD) is compared as a plain secret, the file's
 * users by scrypt. An unknown name is checked against a hash of nothing, so it costs what a known one costs and
 * its answer's timing does not tell which names exist.
 */
export function createUserDirectory(options: { admin?: { name: string; password: string }; users?: readonly UserRecord[] }): UserDirectory {
  const byName = new Map((options.users ?? []).map((user) => [user.name, user]));
  let decoy: Promise<string> | undefined;
  return {
    configured: options.admin !== undefined || byName.size > 0,
    async verify(name, password) {
      const admin = options.admin;
      if (admin && safeEqual(name, admin.name))
        return safeEqual(password, admin.password) ? { name: admin.name, role: 'admin' } : undefined;
      const user = byName.get(name);
      if (!user) {
        if (byName.size > 0) await verifyPassword(password, await (decoy ??= hashPassword('')));
        return undefined;
      }
      return (await verifyPassword(password, user.passwordHash)) ? { name: user.name, role: user.role } : undefined;
    },
  };
}
