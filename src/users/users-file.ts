import { z } from 'zod';
import { createProblemList, readOptionalFile, readYamlSource, sortByLine, type SourceProblem } from '../sources/index.js';
import { parsePasswordHash } from './password-hash.js';
import { roles, type Role } from './roles.js';

/** One user of the admin surfaces, as USERS_FILE lists it: the password only as a hash. */
export interface UserRecord {
  readonly name: string;
  readonly passwordHash: string;
  readonly role: Role;
}

const userSchema = z.strictObject({
  // No ':' (basic auth splits the user there) and no control characters.
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[^:\p{Cc}]+$/u, 'no ":" and no control characters'),
  passwordHash: z.string().superRefine((value, ctx) => {
    const parsed = parsePasswordHash(value);
    if (!parsed.success) ctx.addIssue({ code: 'custom', message: parsed.message });
  }),
  role: z.enum(roles),
});

/** The schema of USERS_FILE. */
export const usersFileSchema = z.strictObject({ users: z.array(userSchema).min(1, 'list at least one user') });

/** The outcome of loading USERS_FILE: every problem at once, or the users. */
export type LoadUsersResult = { success: true; users: UserRecord[] } | { success: false; problems: SourceProblem[] };

/** Loads USERS_FILE (which must exist: it was named). `reserved`: a name already taken (ADMIN_USER, when ADMIN_PASSWORD is set). */
export async function loadUsersFile(path: string, options: { reserved?: string; displayPath?: string } = {}): Promise<LoadUsersResult> {
  const file = options.displayPath ?? path;
  const read = await readOptionalFile(path, file, 'the users file');
  if ('missing' in read) return { success: false, problems: [{ file, message: 'cannot read the users file (ENOENT)' }] };
  if ('problem' in read) return { success: false, problems: [read.problem] };
  return parseUsersSource(file, read.text, options.reserved);
}

/** read → schema → rules (names unique, none shadowing ADMIN_USER) for the users file's text. */
export function parseUsersSource(file: string, text: string, reserved?: string): LoadUsersResult {
  const read = readYamlSource(file, text, 'users file');
  if (!read.success) return read;
  const { problems, add, addIssues } = createProblemList(read.document);
  const parsed = usersFileSchema.safeParse(read.document.value);
  if (!parsed.success) {
    addIssues(parsed.error.issues);
    return { success: false, problems: sortByLine(problems) };
  }
  const seen = new Set<string>();
  parsed.data.users.forEach((user, index) => {
    if (seen.has(user.name)) add(['users', index, 'name'], `user "${user.name}" is listed twice`);
    if (user.name === reserved)
      add(['users', index, 'name'], `user "${user.name}" is ADMIN_USER, whose password is ADMIN_PASSWORD: rename one`);
    seen.add(user.name);
  });
  return problems.length > 0 ? { success: false, problems: sortByLine(problems) } : { success: true, users: parsed.data.users };
}
