import { execFileSync } from 'node:child_process';

/**
 * Writes a self-signed certificate, valid one day, and its unencrypted RSA key, with openssl:
 * enough for a test's TLS server or client. `extra` goes to `openssl req` (`-addext ...`).
 */
export function selfSignedCert(
  paths: { readonly cert: string; readonly key: string },
  subject: string,
  extra: readonly string[] = [],
): void {
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
      subject,
      ...extra,
      '-keyout',
      paths.key,
      '-out',
      paths.cert,
    ],
    { stdio: 'ignore' },
  );
}
