import type { Config } from '../config/index.js';
import type { ServerTls } from './https-server.js';
import { readTlsMaterial, type ReadBytes } from './tls-files.js';

/**
 * The HTTPS settings of the configuration, or undefined for plain HTTP. The files are read and checked now, so that
 * a bad pair refuses to start before anything else starts (readTlsMaterial's error says which file and why).
 * `clientCertificates: false` leaves TLS_CLIENT_CA_FILE out (the exporter has no webhook to guard).
 */
export function serverTlsOf(
  config: Pick<Config, 'TLS_CERT_FILE' | 'TLS_KEY_FILE' | 'TLS_CLIENT_CA_FILE' | 'TLS_RELOAD_INTERVAL'>,
  readBytes: ReadBytes,
  options: { clientCertificates: boolean } = { clientCertificates: true },
): ServerTls | undefined {
  if (config.TLS_CERT_FILE === undefined || config.TLS_KEY_FILE === undefined) return undefined;
  const files = {
    certFile: config.TLS_CERT_FILE,
    keyFile: config.TLS_KEY_FILE,
    ...(options.clientCertificates && config.TLS_CLIENT_CA_FILE !== undefined ? { clientCaFile: config.TLS_CLIENT_CA_FILE } : {}),
  };
  readTlsMaterial(files, readBytes);
  return { files, reloadIntervalMs: config.TLS_RELOAD_INTERVAL, readBytes };
}
