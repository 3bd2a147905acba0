import { createInterface } from 'node:readline';
import { hashPassword } from '../users/password-hash.js';

/** A password longer than this is a pasted file, not a password. */
const maxPasswordLength = 1024;

/**
 * `remediator hash-password`: reads one password line on stdin (typed, piped or from a file, never an argument,
 * which `ps` and the shell's history would show) and prints its scrypt hash for USERS_FILE. Exit code 1 when the
 * line is empty or missing.
 */
export async function runHashPassword(io: {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}): Promise<number> {
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
  let password: string | undefined;
  for await (const line of lines) {
    password = line;
    break;
  }
  lines.close();
  if (!password) {
    io.stderr.write('remediator: hash-password reads the password as one line on stdin, and there was none\n');
    return 1;
  }
  if (password.length > maxPasswordLength) {
    io.stderr.write(`remediator: a password of more than ${maxPasswordLength} characters: is that a file?\n`);
    return 1;
  }
  io.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}
