/**
 * A throw-away self-signed certificate for 127.0.0.1 (openssl, RSA 2048, one day), for
 * tests of the HTTP server under TLS (`http.tls.cert`/`key`): wss, Secure cookies.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface TestCertificate {
  certFile: string;
  keyFile: string;
  /** The certificate's PEM, to trust it as a CA in a client. */
  cert: Buffer;
}

/** Writes `tls.crt` and `tls.key` into `dir`. */
export function selfSignedCertificate(dir: string): TestCertificate {
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile, cert: readFileSync(certFile) };
}
