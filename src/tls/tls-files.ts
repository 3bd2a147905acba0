import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { AppError, errorCodes, errorMessage } from '../core/errors/index.js';

/** Where the server's certificate, its key and (for client certificates) the trusted CA are (TLS_*_FILE). */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** The CA that signs the clients' certificates (TLS_CLIENT_CA_FILE); absent: no client certificates asked for. */
  clientCaFile?: string;
}

/** What a secure context is built from, read from {@link TlsFiles} and checked, with what a log line says about it. */
export interface TlsMaterial extends TlsBytes {
  /** SHA-256 of the leaf certificate (as `openssl x509 -fingerprint -sha256` prints it). */
  fingerprint: string;
  subject: string;
  validTo: string;
}

/** Reads a file's bytes; main passes readFileSync. */
export type ReadBytes = (path: string) => Buffer;

/** The three files' bytes, and a digest of them together (a reload compares it to see whether anything changed). */
export interface TlsBytes {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  digest: string;
}

/**
 * Reads and checks the files: each readable, the certificate PEM, the key matching it, the CA PEM. Throws an
 * AppError (TLS_FILES_INVALID) naming the variable, the file and the reason, so start-up refuses with a message
 * that says what to fix, and a reload keeps the old pair.
 */
export function readTlsMaterial(files: TlsFiles, readBytes: ReadBytes): TlsMaterial {
  return checkTlsBytes(readTlsBytes(files, readBytes), files);
}

/** Reads the files, unchecked (cheap enough for every reload interval); an unreadable one throws, naming it. */
export function readTlsBytes(files: TlsFiles, readBytes: ReadBytes): TlsBytes {
  const read = (variable: string, path: string) => {
    try {
      return readBytes(path);
    } catch (error) {
      throw invalid(`${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)})`, error);
    }
  };
  const cert = read('TLS_CERT_FILE', files.certFile);
  const key = read('TLS_KEY_FILE', files.keyFile);
  const ca = files.clientCaFile === undefined ? undefined : read('TLS_CLIENT_CA_FILE', files.clientCaFile);
  const digest = createHash('sha256')
    .update(cert)
    .update('\0')
    .update(key)
    .update('\0')
    .update(ca ?? '')
    .digest('hex');
  return { cert, key, ...(ca ? { ca } : {}), digest };
}

/** Checks bytes read by {@link readTlsBytes}; throws as {@link readTlsMaterial} does. */
export function checkTlsBytes(bytes: TlsBytes, files: TlsFiles): TlsMaterial {
  const { cert, key, ca } = bytes;
  const leaf = parse(() => new X509Certificate(cert), `TLS_CERT_FILE: ${files.certFile} is not a PEM certificate`);
  const privateKey = parse(() => createPrivateKey(key), `TLS_KEY_FILE: ${files.keyFile} is not a PEM private key (or it is encrypted)`);
  if (!leaf.checkPrivateKey(privateKey))
    throw invalid(`TLS_KEY_FILE: the key in ${files.keyFile} does not match the certificate in ${files.certFile} (${leaf.subject})`);
  if (ca !== undefined) parse(() => new X509Certificate(ca), `TLS_CLIENT_CA_FILE: ${files.clientCaFile ?? ''} is not a PEM certificate`);
  // The last word: what the server would build; a chain OpenSSL refuses is refused here, not at the first handshake.
  parse(() => createSecureContext({ cert, key, ...(ca ? { ca } : {}) }), `TLS_CERT_FILE/TLS_KEY_FILE: OpenSSL refuses the pair`);
  return { ...bytes, fingerprint: leaf.fingerprint256, subject: leaf.subject.replace(/\n/g, ', '), validTo: leaf.validTo };
}

function parse<T>(build: () => T, message: string): T {
  try {
    return build();
  } catch (error) {
    throw invalid(`${message}: ${errorMessage(error)}`, error);
  }
}

function invalid(message: string, cause?: unknown): AppError {
  return new AppError(errorCodes.TLS_FILES_INVALID, message, cause === undefined ? undefined : { cause });
}
