import { followRun, sendAdminRequest, type AdminRequest } from './admin-client.js';

/** Where an admin command writes. */
interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * A CLI admin command: calls the admin API of `server` and prints its JSON answer; with `follow`, then follows the
 * run it started to its end. Returns the exit code: 0, 1 when refused (or the followed run did not succeed), 2
 * without a password.
 */
export async function runAdminCommand(
  server: { baseUrl: string; user: string; password: string | undefined },
  request: AdminRequest,
  io: CommandIo,
): Promise<number> {
  const { password } = server;
  if (password === undefined) {
    io.stderr.write('remediator: set ADMIN_PASSWORD (or ADMIN_PASSWORD_FILE) to the admin password of the server to call\n');
    return 2;
  }
  const target = { ...server, password };
  const answer = await sendAdminRequest(target, request);
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body, null, 2);
  if (answer.status < 200 || answer.status >= 300) {
    io.stderr.write(`remediator: ${request.method} ${request.path} answered ${answer.status}: ${text}\n`);
    return 1;
  }
  io.stdout.write(`${text}\n`);
  const jobId = (answer.body as { runs?: { jobId?: string }[] }).runs?.[0]?.jobId;
  if (request.follow !== true || jobId === undefined) return 0;
  io.stderr.write(`remediator: following run ${jobId}\n`);
  const followed = await followRun(target, jobId);
  io.stdout.write(`${JSON.stringify(followed.run, null, 2)}\n`);
  if (followed.ok) return 0;
  io.stderr.write(`remediator: run ${jobId} ${followed.finished ? 'did not succeed' : 'has not ended yet'}\n`);
  return 1;
}
