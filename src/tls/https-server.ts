import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors/index.js';
import {
  checkTlsBytes,
  readTlsBytes,
  readTlsMaterial,
  type ReadBytes,
  type TlsBytes,
  type TlsFiles,
  type TlsMaterial,
} from './tls-files.js';

/** HTTPS for a server: its files and how often they are read again to pick up a renewed certificate. */
export interface ServerTls {
  files: TlsFiles;
  /** The files are read again this often; a changed, valid pair replaces the served one without a restart. */
  reloadIntervalMs: number;
  readBytes: ReadBytes;
}

/** A listening server and the URL it answers on. */
export interface ListeningServer {
  readonly server: Server | HttpsServer;
  /** http(s)://host:port, the port resolved when 0 was asked. */
  readonly url: string;
  /** Reads the files now and swaps in a changed, valid pair (as the timer does); true when it swapped. */
  readonly reloadTls: () => boolean;
  /** When the certificate served now expires (ms since the epoch); undefined for HTTP. */
  readonly certificateExpiry: () => number | undefined;
}

/**
 * Creates and starts an HTTP server, or an HTTPS one when `tls` is given. A bad pair at start-up throws (readTlsMaterial's
 * message); a bad pair on reload is logged and the served one kept. With a client CA, client certificates are
 * asked for but not required by TLS (rejectUnauthorized false): the webhook refuses a request without a verified one
 * (src/http/client-certificate.ts), while a browser without a certificate can still open the UI.
 */
export async function startHttpServer(
  listener: RequestListener,
  options: { host: string; port: number; tls?: ServerTls; logger: Logger },
): Promise<ListeningServer> {
  const { tls, logger } = options;
  let current: TlsMaterial | undefined = tls ? readTlsMaterial(tls.files, tls.readBytes) : undefined;
  const contextOf = (material: TlsMaterial) => ({ cert: material.cert, key: material.key, ...(material.ca ? { ca: material.ca } : {}) });
  const https = current
    ? createHttpsServer({ ...contextOf(current), ...(current.ca ? { requestCert: true, rejectUnauthorized: false } : {}) }, listener)
    : undefined;
  const server = https ?? createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      // As express's listen() did, keep a listener once listening: a late server error is logged, not fatal.
      server.on('error', (error) => {
        logger.error({ err: error }, 'HTTP server error');
      });
      resolve();
    });
  });
  // What was refused last (the message of an unreadable file, the digest of a bad pair), so that a problem left in
  // place is logged once, not at every interval, and a bad pair is not checked again until the files change.
  let refused: string | undefined;
  const refuse = (key: string, error: unknown, fingerprint: string) => {
    if (refused !== key) logger.warn({ err: error, fingerprint }, 'TLS files not reloaded: keeping the current certificate');
    refused = key;
    return false;
  };
  const reloadTls = (): boolean => {
    if (!https || !tls || !current) return false;
    let bytes: TlsBytes;
    try {
      bytes = readTlsBytes(tls.files, tls.readBytes);
    } catch (error) {
      return refuse(errorMessage(error), error, current.fingerprint);
    }
    if (bytes.digest === current.digest || bytes.digest === refused) return false;
    let next: TlsMaterial;
    try {
      next = checkTlsBytes(bytes, tls.files);
    } catch (error) {
      return refuse(bytes.digest, error, current.fingerprint);
    }
    refused = undefined;
    https.setSecureContext(contextOf(next));
    logger.info({ fingerprint: next.fingerprint, subject: next.subject, validTo: next.validTo }, 'TLS certificate reloaded');
    current = next;
    return true;
  };
  if (tls && current) {
    logger.info(
      {
        fingerprint: current.fingerprint,
        subject: current.subject,
        validTo: current.validTo,
        clientCertificates: current.ca !== undefined,
      },
      'serving HTTPS',
    );
    const timer = setInterval(reloadTls, tls.reloadIntervalMs).unref();
    server.once('close', () => {
      clearInterval(timer);
    });
  }
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : options.port;
  return {
    server,
    url: `${tls ? 'https' : 'http'}://${options.host}:${port}`,
    reloadTls,
    certificateExpiry: () => (current === undefined ? undefined : Date.parse(current.validTo)),
  };
}
