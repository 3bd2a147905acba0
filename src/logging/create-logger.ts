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

/** The forms a secret value takes in a JSON log line: as is, JSON-escaped, percent-encoded, and both. */
function secretForms(secret: string): string[] {
  const jsonEscaped = (text: string) => JSON.stringify(text).slice(1, -1);
  return [secret, jsonEscaped(secret), encodeURIComponent(secret), jsonEscaped(encodeURIComponent(secret))];
}

/**
 * Creates the JSON logger. Besides path redaction, every configured secret value is masked wherever it appears
 * in a line (an error message quoting a URL with a password, say), so a secret never reaches the log.
 */
export function createLogger(options: { level: string; secrets?: readonly string[]; destination?: DestinationStream }): Logger {
  // Lines are JSON, so a secret with a quote or a backslash appears escaped, and inside a URL it appears
  // percent-encoded: each of those forms is masked too. Longest first, so a longer form is never cut by a shorter.
  const secrets = [...new Set((options.secrets ?? []).filter((secret) => secret.length >= 4).flatMap(secretForms))].sort(
    (a, b) => b.length - a.length,
  );
  // Synchronous: an asynchronous destination can reorder or drop the last lines when the process exits (seen at
  // shutdown: "stopped" landing before "worker closed"), and an incident log must be complete and in order. One
  // line per webhook or step costs microseconds.
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
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
