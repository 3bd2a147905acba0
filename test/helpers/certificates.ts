// The harness (tools/harness/) starts every server the tests, the bench and the lab use; tests keep their names.
export { createCertificateAuthority, type CertificateFiles, type TestCertificateAuthority } from '../../tools/harness/certificates.js';
