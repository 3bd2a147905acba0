import assert from 'node:assert/strict';
import { randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCertificateAuthority, type CertificateFiles, type TestCertificateAuthority } from '../helpers/certificates.js';
import { noteDownPlaybook } from '../helpers/playbook-fixtures.js';
import { httpsRequest } from '../helpers/https-request.js';
import { runRemediator } from '../helpers/remediator-process.js';
import { withTestService } from '../helpers/service-suite.js';
import { tempDir, type TempDir } from '../../tools/harness/temp-dir.js';
import { waitFor } from '../helpers/wait.js';
import { freePort } from '../../src/util/free-port.js';

const password = 'cli-tls-pw-71c2';

describe('TLS settings of remediator serve, the exporter and the CLI', () => {
  let dir: TempDir;
  let ca: TestCertificateAuthority;
  let server: CertificateFiles;
  let other: CertificateFiles;

  before(async () => {
    dir = await tempDir('remediator-cli-tls-');
    ca = await createCertificateAuthority(dir.path, 'cli-ca');
    server = await ca.issue('remediator', { kind: 'server', ip: '127.0.0.1' });
    other = await ca.issue('other', { kind: 'server', ip: '127.0.0.1' });
  });
  after(() => dir.remove());

  test('a certificate with a key that does not match refuses to start, naming both files', async () => {
    const run = runRemediator(['serve'], { TLS_CERT_FILE: server.certFile, TLS_KEY_FILE: other.keyFile, REDIS_URL: 'redis://127.0.0.1:1' });
    assert.equal((await run.exited).code, 1);
    const output = run.output();
    assert.ok(output.includes(`TLS_KEY_FILE: the key in ${other.keyFile} does not match the certificate in ${server.certFile}`), output);
    assert.doesNotMatch(output, /remediator listening|connect/i, 'it stopped before Redis and before listening');
  });

  test('a certificate file without its key, or a client CA without HTTPS, is a configuration error (exit 2)', async () => {
    const alone = runRemediator(['serve'], { TLS_CERT_FILE: server.certFile });
    assert.equal((await alone.exited).code, 2);
    assert.match(alone.output(), /TLS_KEY_FILE: required with TLS_CERT_FILE/);
    const ca = runRemediator(['serve'], { TLS_CLIENT_CA_FILE: server.certFile });
    assert.equal((await ca.exited).code, 2);
    assert.match(ca.output(), /TLS_CLIENT_CA_FILE: only used with HTTPS/);
  });

  test('the exporter serves /metrics over HTTPS with the same settings', async () => {
    const empty = await tempDir();
    const port = await freePort();
    const exporter = runRemediator(['exporter', '--port', String(port)], {
      HOST: '127.0.0.1',
      REMEDIATIONS_DIR: empty.path,
      TLS_CERT_FILE: server.certFile,
      TLS_KEY_FILE: server.keyFile,
    });
    try {
      const answer = await waitFor(
        'the exporter over HTTPS',
        () => httpsRequest(`https://127.0.0.1:${port}/metrics`, { caFile: ca.certFile }),
        {
          timeoutMs: 30_000,
          intervalMs: 100,
          processes: [exporter],
        },
      );
      assert.equal(answer.status, 200);
      assert.match(answer.body, /^# HELP /m);
    } finally {
      await exporter.stop();
      await empty.remove();
    }
  });

  describe('the CLI admin commands against remediator over HTTPS', () => {
    const suite = withTestService(() => ({
      playbooks: { 'note-down.yaml': noteDownPlaybook },
      settings: { adminPassword: password, tls: { files: server, reloadIntervalMs: 60_000, readBytes: (path) => readFileSync(path) } },
    }));

    test('an https REMEDIATOR_URL works with the CA in NODE_EXTRA_CA_CERTS, and without it the certificate is named as the reason', async () => {
      const trusted = runRemediator(['holds'], {
        REMEDIATOR_URL: suite.app().url,
        ADMIN_PASSWORD: password,
        NODE_EXTRA_CA_CERTS: ca.certFile,
      });
      assert.equal((await trusted.exited).code, 0, trusted.output());
      assert.match(trusted.output(), /"holds"/);
      const untrusted = runRemediator(['holds'], { REMEDIATOR_URL: suite.app().url, ADMIN_PASSWORD: password });
      assert.notEqual((await untrusted.exited).code, 0);
      assert.match(untrusted.output(), /unreachable: fetch failed \(.*certificate.*\); to trust a private CA, set NODE_EXTRA_CA_CERTS/);
    });

    test('remediator serve listens over HTTPS and serves a renewed pair at SIGHUP without a restart', async () => {
      const served = { certFile: join(dir.path, 'serve.crt'), keyFile: join(dir.path, 'serve.key') };
      await copyFile(server.certFile, served.certFile);
      await copyFile(server.keyFile, served.keyFile);
      const port = await freePort();
      const serve = runRemediator(['serve'], {
        HOST: '127.0.0.1',
        PORT: String(port),
        REDIS_URL: suite.redis().url,
        QUEUE_NAME: `tls-${randomUUID()}`,
        RECONCILE_INTERVAL: '0',
        TLS_CERT_FILE: served.certFile,
        TLS_KEY_FILE: served.keyFile,
        // Longer than the test: only SIGHUP can make it read the files again.
        TLS_RELOAD_INTERVAL: '1h',
      });
      const healthz = () => httpsRequest(`https://127.0.0.1:${port}/healthz`, { caFile: ca.certFile });
      try {
        const first = await waitFor('serve over HTTPS', healthz, { timeoutMs: 30_000, intervalMs: 100, processes: [serve] });
        assert.equal(first.fingerprint, new X509Certificate(await readFile(server.certFile)).fingerprint256);
        await copyFile(other.certFile, served.certFile);
        await copyFile(other.keyFile, served.keyFile);
        const renewed = new X509Certificate(await readFile(other.certFile)).fingerprint256;
        process.kill(serve.pid, 'SIGHUP');
        await waitFor('the renewed certificate served', async () => (await healthz()).fingerprint === renewed, { processes: [serve] });
        assert.ok(serve.running(), 'the same process serves it');
      } finally {
        await serve.stop();
      }
    });
  });
});
