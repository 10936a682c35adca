import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NatsServer, selfSignedCert, startNatsServer } from '@handover/testkit';
import { nkeys } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { type BinResult, runBin } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'handover-cli-auth-'));
const file = (name: string) => join(dir, name);
const servers: NatsServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.dispose()));
  rmSync(dir, { recursive: true, force: true });
});
const start = async (config: string) => {
  const server = await startNatsServer({ config });
  servers.push(server);
  return server;
};
/** Connected and listed (no service yet), with nothing secret in what it printed. */
function connected(result: BinResult, secrets: string[]): void {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('no Handover services');
  for (const secret of secrets) expect(result.stdout + result.stderr).not.toContain(secret);
}
function refused(result: BinResult, secrets: string[], pattern: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toMatch(pattern);
  for (const secret of secrets) expect(result.stdout + result.stderr).not.toContain(secret);
}

describe('handover credentials', () => {
  it('authenticates with a token from --token, NATS_TOKEN or the URL', async () => {
    const token = 'tok-0a1b2c3d4e5f';
    const server = await start(`authorization { token: "${token}" }`);
    connected(await runBin(['ls', '--token', token, '-s', server.url]), [token]);
    connected(await runBin(['ls'], { NATS_URL: server.url, NATS_TOKEN: token }), [token]);
    const inUrl = server.url.replace('nats://', `nats://${token}@`);
    connected(await runBin(['ls', '-s', inUrl]), [token]);
    refused(
      await runBin(['ls', '--token', 'tok-wrong-value', '-s', server.url]),
      ['tok-wrong-value'],
      /Authorization Violation.*\(HANDOVER_E_CLI_CONNECT\)/i,
    );
  });

  it('authenticates with a .creds file, and names a missing one without reading it out', async () => {
    const user = nkeys.createUser();
    const seed = new TextDecoder().decode(user.getSeed());
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    // Outside operator mode the server checks the seed's signature and ignores the JWT.
    writeFileSync(
      file('user.creds'),
      `-----BEGIN NATS USER JWT-----\n${b64({ typ: 'JWT', alg: 'ed25519-nkey' })}.${b64({ sub: user.getPublicKey() })}.sig\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
    );
    const server = await start(`authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }`);
    connected(await runBin(['ls', '--creds', file('user.creds'), '-s', server.url]), [seed]);
    connected(await runBin(['ls'], { NATS_URL: server.url, NATS_CREDS: file('user.creds') }), [
      seed,
    ]);
    refused(
      await runBin(['ls', '--creds', file('missing.creds'), '-s', server.url]),
      [],
      /^handover: cannot read the --creds file .*missing\.creds: ENOENT \(HANDOVER_E_CLI_CONNECT\)\n$/,
    );
  });

  it('connects over TLS with --tlsca, presents a client certificate with --tlscert/--tlskey', async () => {
    const selfSigned = (name: string, subject: string, extra: string[] = []) =>
      selfSignedCert({ cert: file(`${name}.pem`), key: file(`${name}-key.pem`) }, subject, extra);
    selfSigned('server', '/CN=127.0.0.1', ['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
    selfSigned('client', '/CN=handover-cli');
    selfSigned('other', '/CN=other');
    const server = await start(
      `tls { cert_file: "${file('server.pem')}", key_file: "${file('server-key.pem')}", ca_file: "${file('client.pem')}", verify: true }`,
    );
    const url = server.url.replace('nats://', 'tls://');
    const client = ['--tlscert', file('client.pem'), '--tlskey', file('client-key.pem')];
    connected(await runBin(['ls', '--tlsca', file('server.pem'), ...client, '-s', url]), []);
    connected(
      await runBin(['ls', '-s', url], {
        NATS_CA: file('server.pem'),
        NATS_CERT: file('client.pem'),
        NATS_KEY: file('client-key.pem'),
      }),
      [],
    );
    // A CA that did not sign the server's certificate; then no client certificate.
    refused(
      await runBin(['ls', '--tlsca', file('other.pem'), ...client, '-s', url, '--timeout', '2s']),
      [],
      /^handover: cannot connect to NATS at tls:\/\/127\.0\.0\.1:\d+: .*certificate.*\(HANDOVER_E_CLI_CONNECT\)\n$/i,
    );
    refused(
      await runBin(['ls', '--tlsca', file('server.pem'), '-s', url, '--timeout', '2s']),
      [],
      /^handover: cannot connect to NATS at tls:\/\/127\.0\.0\.1:\d+: .*\(HANDOVER_E_CLI_CONNECT\)\n$/,
    );
  });
});
