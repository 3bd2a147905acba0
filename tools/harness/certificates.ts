import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A PEM certificate and its key, as files. */
export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

/** A test certificate authority made with openssl; it signs server and client certificates. */
export interface TestCertificateAuthority extends CertificateFiles {
  /** Signs a certificate for `name` (its CN) with an IP subjectAltName for a server, or clientAuth for a client. */
  issue(name: string, options: { kind: 'server'; ip: string } | { kind: 'client' }): Promise<CertificateFiles>;
}

/** A P-256 key and a self-signed CA certificate in `dir`, valid for one day; `openssl` must be on PATH. */
export async function createCertificateAuthority(dir: string, name: string): Promise<TestCertificateAuthority> {
  const ca = { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
  await run('openssl', [
    'req',
    '-x509',
    ...keyOptions(ca.keyFile),
    '-out',
    ca.certFile,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return {
    ...ca,
    async issue(cn, options) {
      const base = join(dir, `${cn}-${randomBytes(4).toString('hex')}`);
      const issued = { certFile: `${base}.crt`, keyFile: `${base}.key` };
      await run('openssl', ['req', '-new', ...keyOptions(issued.keyFile), '-out', `${base}.csr`, '-subj', `/CN=${cn}`]);
      const extensions =
        options.kind === 'server' ? `subjectAltName=IP:${options.ip}\nextendedKeyUsage=serverAuth\n` : 'extendedKeyUsage=clientAuth\n';
      await writeFile(`${base}.ext`, extensions);
      await run('openssl', [
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        ca.certFile,
        '-CAkey',
        ca.keyFile,
        '-set_serial',
        `0x${randomBytes(8).toString('hex')}`,
        '-days',
        '1',
        '-extfile',
        `${base}.ext`,
        '-out',
        issued.certFile,
      ]);
      return issued;
    },
  };
}

const keyOptions = (keyFile: string) => ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile];
