import { pino, type DestinationStream, type Logger } from 'pino';

/** Paths pino masks in every log line. */
export const redactedPaths = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.password',
  '*.token',
  '*.secret',
  'password',
  'token',
  'WEBHOOK_TOKEN',
  'ADMIN_PASSWORD',
  'SMTP_URL',
  'config.WEBHOOK_TOKEN',
  'config.ADMIN_PASSWORD',
];

/**
 * Creates the JSON logger. Besides path redaction, every configured secret value is masked wherever it appears
 * in a line (an error message quoting a URL with a password, say), so a secret never reaches the log.
 */
export function createLogger(options: { level: string; secrets?: readonly string[]; destination?: DestinationStream }): Logger {
  const secrets = (options.secrets ?? []).filter((secret) => secret.length >= 4);
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  const masked: DestinationStream =
    secrets.length === 0
      ? destination
      : {
          write(line: string) {
            let out = line;
            for (const secret of secrets) out = out.split(secret).join('[redacted]');
            destination.write(out);
          },
        };
  return pino(
    {
      level: options.level,
      base: { service: 'remediator' },
      redact: { paths: redactedPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    masked,
  );
}
