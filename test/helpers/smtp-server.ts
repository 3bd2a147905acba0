import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/util/free-port.js';

/** A message the test SMTP server received. */
export interface ReceivedMail {
  from: string | undefined;
  to: string[];
  raw: string;
}

/** A real SMTP server (the smtp-server package) on loopback that keeps every message. */
export interface TestSmtp {
  readonly url: string;
  readonly messages: ReceivedMail[];
  stop(): Promise<void>;
}

/** Starts an SMTP server; with `rejectRecipients`, RCPT TO for those addresses gets a permanent 550. */
export async function startSmtp(options: { user?: string; password?: string; rejectRecipients?: string[] } = {}): Promise<TestSmtp> {
  const port = await freePort();
  const messages: ReceivedMail[] = [];
  const needsAuth = options.user !== undefined;
  const server = new SMTPServer({
    secure: false,
    disabledCommands: needsAuth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !needsAuth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) callback(null, { user: auth.username });
      else callback(new Error('invalid credentials'));
    },
    onRcptTo(address, _session, callback) {
      if (options.rejectRecipients?.includes(address.address)) {
        const error = Object.assign(new Error('no such user'), { responseCode: 550 });
        callback(error);
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        raw += chunk;
      });
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        messages.push({ from: from ? from.address : undefined, to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const credentials = needsAuth ? `${encodeURIComponent(options.user ?? '')}:${encodeURIComponent(options.password ?? '')}@` : '';
  return {
    url: `smtp://${credentials}127.0.0.1:${port}?ignoreTLS=true`,
    messages,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** The header block of a raw message as [name, value] pairs, folded lines joined. */
export function mailHeaders(mail: ReceivedMail): [string, string][] {
  const head = mail.raw.slice(0, mail.raw.indexOf('\r\n\r\n'));
  return head
    .replace(/\r\n(?=[ \t])/g, '')
    .split('\r\n')
    .map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    });
}

/** Decodes a quoted-printable text (soft line breaks joined), as UTF-8. */
export function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const soft = text.replace(/=\r\n/g, '');
  for (let index = 0; index < soft.length; index++) {
    const hex = soft[index] === '=' ? /^[0-9A-F]{2}$/i.exec(soft.slice(index + 1, index + 3))?.[0] : undefined;
    if (hex !== undefined) {
      bytes.push(parseInt(hex, 16));
      index += 2;
    } else bytes.push(...Buffer.from(soft[index] ?? '', 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The body text of a received mail, decoded per its Content-Transfer-Encoding. */
export function mailText(mail: ReceivedMail): string {
  const body = mail.raw.slice(mail.raw.indexOf('\r\n\r\n') + 4);
  const encoding = mailHeaders(mail)
    .find(([name]) => name === 'content-transfer-encoding')?.[1]
    .toLowerCase();
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  if (encoding === 'base64') return Buffer.from(body, 'base64').toString('utf8');
  return body;
}
