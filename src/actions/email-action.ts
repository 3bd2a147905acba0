import type { Transporter } from 'nodemailer';
import { z } from 'zod';
import { defineAction, permanentError, transientError } from '../core/action.js';

/**
 * One plain address (local@domain), nothing else. Spaces, comments `( )`, quotes, brackets and the separators
 * `, ; : < >` are refused: the mail library would read them as a display name, a comment or a second address, so a
 * label inside `oncall-{{ labels.team }}@example.com` could otherwise redirect the mail (`x (@` → `x`).
 */
const plainAddress = /^[^\s\p{Cc}@()<>[\],;:"\\]+@[^\s\p{Cc}@()<>[\],;:"\\]+$/u;

const address = z
  .string()
  .min(3)
  .refine((value) => plainAddress.test(value), 'must be one e-mail address (local@domain)');

const emailSchema = z.strictObject({
  to: z.union([address, z.array(address).min(1)]),
  cc: z.union([address, z.array(address)]).optional(),
  from: address.optional(),
  subject: z.string().min(1).max(998),
  text: z.string(),
});

/** Sends an e-mail through the SMTP transport built from SMTP_URL. */
export function createEmailAction(options: { transport: Transporter | undefined; from: string }) {
  return defineAction({
    name: 'email',
    description: 'Send an e-mail (SMTP_URL).',
    schema: emailSchema,
    defaultTimeoutMs: 30_000,
    // A value in an address is restricted to letters, digits and . _ + -: `%` and `!` would let a relay route the
    // mail elsewhere (x%evil.example@relay, evil.example!x@relay), which the plain-address check above allows.
    escapesFor: () => ({ to: 'address', cc: 'address', from: 'address' }),
    async run(params, { signal }) {
      const transport = options.transport;
      if (!transport) throw permanentError('email needs SMTP_URL (or SMTP_URL_FILE) to be configured');
      // A label with a line break must not add a header: subjects are folded onto one line.
      const subject = params.subject.replace(/[\r\n]+/g, ' ');
      const send = transport.sendMail({ from: params.from ?? options.from, to: params.to, cc: params.cc, subject, text: params.text });
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_resolve, reject) => {
        onAbort = () => {
          reject(signal.reason as Error);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        const info = (await Promise.race([send, aborted])) as { messageId?: string; accepted?: unknown[]; rejected?: unknown[] };
        return { messageId: info.messageId, accepted: info.accepted?.map(String), rejected: info.rejected?.map(String) };
      } catch (error) {
        if (signal.aborted) throw error;
        const responseCode = (error as { responseCode?: number }).responseCode;
        const message = `sending mail failed: ${(error as Error).message}`;
        // 5xx SMTP replies are permanent (bad recipient, refused); the rest (connection, 4xx) may pass.
        if (responseCode !== undefined && responseCode >= 500) throw permanentError(message, error);
        throw transientError(message, error);
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
    },
  });
}
