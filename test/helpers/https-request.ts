import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { TLSSocket } from 'node:tls';
import type { CertificateFiles } from './certificates.js';

/** An HTTPS answer, with the SHA-256 fingerprint of the certificate the server presented. */
export interface HttpsAnswer {
  status: number;
  body: string;
  fingerprint: string;
}

/**
 * One HTTPS request on a fresh connection (no keep-alive agent: each request sees the certificate served now),
 * trusting only `caFile`, presenting `client` when given.
 */
export async function httpsRequest(
  url: string,
  options: { caFile: string; client?: CertificateFiles; method?: string; headers?: Record<string, string>; body?: string },
): Promise<HttpsAnswer> {
  const ca = await readFile(options.caFile);
  const client = options.client ? { cert: await readFile(options.client.certFile), key: await readFile(options.client.keyFile) } : {};
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, ca, ...client, agent: false, timeout: 10_000 },
      (res) => {
        const socket = res.socket;
        if (!(socket instanceof TLSSocket)) throw new Error(`${url}: not a TLS connection`);
        const fingerprint = socket.getPeerCertificate().fingerprint256;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), fingerprint });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
