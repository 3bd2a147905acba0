import { hashPassword } from '../../src/users/password-hash.js';
import type { Role } from '../../src/users/roles.js';
import type { UserRecord } from '../../src/users/users-file.js';

/** USERS_FILE's users with their passwords hashed at a low cost (the format carries it), so that tests log in fast. */
export function usersOf(users: readonly { name: string; password: string; role: Role }[]): Promise<UserRecord[]> {
  return Promise.all(
    users.map(async ({ name, password, role }) => ({ name, role, passwordHash: await hashPassword(password, { N: 1024, r: 8, p: 1 }) })),
  );
}

/** An Authorization header for basic auth. */
export const basicAuth = (name: string, password: string): string => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
