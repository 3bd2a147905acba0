import assert from 'node:assert/strict';
import { appError, runAction } from '../helpers/action-run.js';
import { getEventListeners } from 'node:events';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTransport } from 'nodemailer';
import type { ActionDefinition } from '../../src/core/action.js';
import { createEmailAction } from '../../src/actions/email-action.js';
import { errorCodes } from '../../src/core/errors/index.js';
import { freePort } from '../../src/util/free-port.js';
import { startSmtp, type ReceivedMail, type TestSmtp } from '../helpers/smtp-server.js';
import { waitFor } from '../helpers/wait.js';

interface EmailOutput {
  messageId?: string;
  accepted?: string[];
  rejected?: string[];
}

const from = 'remediator@example.com';

const run = (action: ActionDefinition, withBlock: Record<string, unknown>, signal?: AbortSignal) =>
  runAction<EmailOutput>(action, withBlock, signal);

/** The header block of a raw message, with folded lines joined. */
function headersOf(mail: ReceivedMail): string[] {
  const head = mail.raw.split(/\r?\n\r?\n/)[0] ?? '';
  return head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/);
}

function header(mail: ReceivedMail, name: string): string[] {
  const prefix = `${name.toLowerCase()}:`;
  return headersOf(mail)
    .filter((line) => line.toLowerCase().startsWith(prefix))
    .map((line) => line.slice(prefix.length).trim());
}

describe('email action', () => {
  const servers: TestSmtp[] = [];
  let smtp: TestSmtp;

  before(async () => {
    smtp = await startSmtp();
    servers.push(smtp);
  });
  after(async () => {
    for (const server of servers) await server.stop();
  });

  const only = (subject: string): ReceivedMail => {
    const found = smtp.messages.filter((mail) => header(mail, 'Subject')[0] === subject);
    assert.equal(found.length, 1, `exactly one mail with subject ${subject}`);
    return found[0] as ReceivedMail;
  };

  test('a mail is delivered to every recipient with its subject, body text and the default sender', async () => {
    const action = createEmailAction({ transport: createTransport(smtp.url), from });
    const output = await run(action, {
      to: ['oncall@example.com', 'dba@example.com'],
      cc: 'lead@example.com',
      subject: 'db-1 is down, failing over',
      text: 'Primary db-1 stopped answering.\nPromoting db-2.',
    });
    const mail = only('db-1 is down, failing over');
    assert.equal(mail.from, from);
    assert.deepEqual([...mail.to].sort(), ['dba@example.com', 'lead@example.com', 'oncall@example.com']);
    assert.deepEqual(header(mail, 'To'), ['oncall@example.com, dba@example.com']);
    assert.deepEqual(header(mail, 'Cc'), ['lead@example.com']);
    assert.deepEqual(header(mail, 'From'), [from]);
    assert.match(mail.raw, /Primary db-1 stopped answering\.\r?\nPromoting db-2\./);
    assert.deepEqual([...(output.accepted ?? [])].sort(), ['dba@example.com', 'lead@example.com', 'oncall@example.com']);
    assert.deepEqual(output.rejected, []);
    assert.equal(typeof output.messageId, 'string');
  });

  test('a sent mail leaves no abort listener behind on the step signal', async () => {
    const action = createEmailAction({ transport: createTransport(smtp.url), from });
    const controller = new AbortController();
    await run(action, { to: 'oncall@example.com', subject: 'listener check', text: 'x' }, controller.signal);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('a from address in the step replaces the default sender', async () => {
    const action = createEmailAction({ transport: createTransport(smtp.url), from });
    await run(action, { to: 'oncall@example.com', from: 'db-team@example.com', subject: 'custom sender', text: 'x' });
    const mail = only('custom sender');
    assert.equal(mail.from, 'db-team@example.com');
    assert.deepEqual(header(mail, 'From'), ['db-team@example.com']);
  });

  test('a server that requires SMTP auth accepts the mail when the URL carries the right user and password', async () => {
    const authed = await startSmtp({ user: 'remediator', password: 'p@ss:word/1' });
    servers.push(authed);
    const action = createEmailAction({ transport: createTransport(authed.url), from });
    await run(action, { to: 'oncall@example.com', subject: 'authenticated', text: 'hello' });
    assert.equal(authed.messages.length, 1);
    assert.deepEqual(authed.messages[0]?.to, ['oncall@example.com']);
  });

  test('a wrong SMTP password is a permanent error and nothing is delivered', async () => {
    const authed = await startSmtp({ user: 'remediator', password: 'right' });
    servers.push(authed);
    const url = authed.url.replace('remediator:right@', 'remediator:wrong@');
    const action = createEmailAction({ transport: createTransport(url), from });
    await assert.rejects(
      run(action, { to: 'oncall@example.com', subject: 'bad auth', text: 'x' }),
      appError(errorCodes.STEP_PERMANENT, /sending mail failed/),
    );
    assert.equal(authed.messages.length, 0);
  });

  test('a line break followed by a Bcc header in the subject does not add a header or a recipient', async () => {
    const action = createEmailAction({ transport: createTransport(smtp.url), from });
    await run(action, { to: 'oncall@example.com', subject: 'disk full on db-1\r\nBcc: evil@x.example', text: 'body' });
    const mail = only('disk full on db-1 Bcc: evil@x.example');
    assert.deepEqual(mail.to, ['oncall@example.com']);
    assert.deepEqual(header(mail, 'Bcc'), []);
    assert.doesNotMatch(mail.raw, /^bcc:/im);
  });

  test('a recipient the server rejects with 550 is a permanent error', async () => {
    const rejecting = await startSmtp({ rejectRecipients: ['nobody@example.com'] });
    servers.push(rejecting);
    const action = createEmailAction({ transport: createTransport(rejecting.url), from });
    await assert.rejects(
      run(action, { to: 'nobody@example.com', subject: 'to nobody', text: 'x' }),
      appError(errorCodes.STEP_PERMANENT, /sending mail failed/),
    );
    assert.equal(rejecting.messages.length, 0);
  });

  test('an unreachable SMTP port is a transient error', async () => {
    const closedPort = await freePort();
    const action = createEmailAction({ transport: createTransport(`smtp://127.0.0.1:${closedPort}?ignoreTLS=true`), from });
    await assert.rejects(
      run(action, { to: 'oncall@example.com', subject: 'nowhere', text: 'x' }),
      appError(errorCodes.STEP_FAILED, /sending mail failed/),
    );
  });

  test('aborting the signal ends a send to a server that accepts the connection but never greets', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const action = createEmailAction({ transport: createTransport(`smtp://127.0.0.1:${port}?ignoreTLS=true`), from });
      const controller = new AbortController();
      const reason = new Error('step timed out');
      const started = Date.now();
      const running = run(action, { to: 'oncall@example.com', subject: 'silent', text: 'x' }, controller.signal);
      running.catch(() => undefined);
      // Aborted once the transport has connected, while it waits for the greeting.
      await waitFor('the transport to connect', () => sockets.length === 1, 10_000, 10);
      controller.abort(reason);
      await assert.rejects(running, (error: unknown) => error === reason);
      assert.ok(Date.now() - started < 10_000, 'it did not wait for the SMTP greeting timeout');
      assert.equal(sockets.length, 1, 'the transport did connect');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        silent.close(() => {
          resolve();
        });
      });
    }
  });
});
