import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NatsServer, selfSignedCert, spawnNode, startNatsServer } from '@handover/testkit';
import {
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  nkeys,
} from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, msg, openBucket } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'handover-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const user = nkeys.createUser();
const seed = new TextDecoder().decode(user.getSeed());
const credsUser = nkeys.createUser();
const credsSeed = new TextDecoder().decode(credsUser.getSeed());
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
// Outside operator mode the server checks the seed's signature and ignores the JWT.
const credsFile = join(dir, 'user.creds');
writeFileSync(
  credsFile,
  `-----BEGIN NATS USER JWT-----\n${b64({ typ: 'JWT', alg: 'ed25519-nkey' })}.${b64({ sub: credsUser.getPublicKey() })}.sig\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${credsSeed}\n------END USER NKEY SEED------\n`,
);

interface Mode {
  name: string;
  config: string;
  /** The worker's environment (fixture knobs) and the test's own connection options. */
  env: (url: string) => Record<string, string>;
  client: (url: string) => ConnectionOptions;
  secrets: string[];
}

const modes: Mode[] = [
  {
    name: 'token',
    config: 'authorization { token: "tok-0a1b2c3d4e5f" }',
    env: (url) => ({ NATS_URL: url, NATS_TOKEN: 'tok-0a1b2c3d4e5f' }),
    client: (url) => ({ servers: url, token: 'tok-0a1b2c3d4e5f' }),
    secrets: ['tok-0a1b2c3d4e5f'],
  },
  {
    name: 'user and password',
    config: 'authorization { user: "alice", password: "pw-9z8y7x6w" }',
    env: (url) => ({ NATS_URL: url, NATS_USER: 'alice', NATS_PASS: 'pw-9z8y7x6w' }),
    client: (url) => ({ servers: url, user: 'alice', pass: 'pw-9z8y7x6w' }),
    secrets: ['pw-9z8y7x6w'],
  },
  {
    name: 'credentials in the server URL',
    config: 'authorization { user: "bob", password: "pw-url-5544" }',
    env: (url) => ({ NATS_URL: url.replace('nats://', 'nats://bob:pw-url-5544@') }),
    client: (url) => ({ servers: url, user: 'bob', pass: 'pw-url-5544' }),
    secrets: ['pw-url-5544'],
  },
  {
    name: 'nkey',
    config: `authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }`,
    env: (url) => ({ NATS_URL: url, NATS_NKEY_SEED: seed }),
    client: (url) => ({ servers: url, authenticator: nkeyAuthenticator(user.getSeed()) }),
    secrets: [seed],
  },
  {
    name: 'creds file',
    config: `authorization { users = [ { nkey: "${credsUser.getPublicKey()}" } ] }`,
    env: (url) => ({ NATS_URL: url, NATS_CREDS: credsFile }),
    client: (url) => ({ servers: url, authenticator: credsAuthenticator(readFileSync(credsFile)) }),
    secrets: [credsSeed],
  },
];

describe.each(modes)('a worker authenticating with $name', (mode) => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ config: mode.config });
  });
  afterAll(() => server.dispose());

  it('connects, registers, and never writes the secret to logs, entries or events', async () => {
    const nc = await connect(mode.client(server.url));
    const seen: string[] = [];
    nc.subscribe('handover.auth.events.>', {
      callback: (_e, m) => {
        seen.push(m.string());
      },
    });
    const child = spawnNode(fixture, {
      env: {
        SERVICE: 'auth',
        HANDOVER_WORKER_ID: 'auth-1',
        HANDOVER_LOG_LEVEL: 'debug',
        ...mode.env(server.url),
      },
    });
    await child.waitForLog(msg('ready'), { timeoutMs: 15_000 });
    const reply = await nc.request('handover.auth.tasks', '{"hello":1}', { timeout: 5000 });
    expect(reply.json()).toMatchObject({ worker: 'auth-1' });
    const entry = await (await openBucket(nc, 'handover_auth')).get('auth-1');
    seen.push(entry?.string() ?? '');
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
    await nc.flush();
    await nc.close();

    const everything = [child.lines.join('\n'), child.stderr(), ...seen].join('\n');
    expect(child.logs.find(msg('connecting to NATS'))).toBeDefined();
    for (const secret of mode.secrets) expect(everything).not.toContain(secret);
    expect(seen.length).toBeGreaterThanOrEqual(3);
  });
});

describe('a worker whose credentials are wrong', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer({ config: 'authorization { token: "right-token-77" }' });
  });
  afterAll(() => server.dispose());

  it('fails its start at once on an authorization error instead of waiting forever', async () => {
    const child = spawnNode(fixture, {
      env: { NATS_URL: server.url, NATS_TOKEN: 'wrong-token-66', HANDOVER_WORKER_ID: 'w' },
    });
    const exit = await child.waitForExit(10_000);
    expect(exit.code).toBe(1);
    const failure = JSON.stringify(child.logs.find(msg('warm-up failed')));
    expect(failure).toContain('HANDOVER_E_NATS_CONNECT');
    expect(failure).toContain('NATS refused the credentials');
    expect(child.lines.join('\n')).not.toContain('wrong-token-66');
  });

  it('fails the connect with a clear error naming an unreadable creds file, without its content', async () => {
    const child = spawnNode(fixture, {
      env: {
        NATS_URL: 'nats://127.0.0.1:1',
        NATS_CREDS: join(dir, 'missing.creds'),
        HANDOVER_WORKER_ID: 'x',
      },
    });
    const exit = await child.waitForExit();
    expect(exit.code).toBe(1);
    const failure = child.logs.find(msg('warm-up failed'));
    expect(JSON.stringify(failure)).toContain('HANDOVER_E_NATS_CONNECT');
    expect(JSON.stringify(failure)).toContain('missing.creds: ENOENT');
  });
});

/** Writes a self-signed certificate (valid one day) and its key. */
function selfSigned(cert: string, key: string, subject: string, extra: string[] = []): void {
  selfSignedCert({ cert, key }, subject, extra);
}

describe('a TLS connection', () => {
  let server: NatsServer;
  const ca = join(dir, 'cert.pem');
  beforeAll(async () => {
    selfSigned(ca, join(dir, 'key.pem'), '/CN=127.0.0.1', [
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    server = await startNatsServer({
      config: `tls { cert_file: "${ca}", key_file: "${join(dir, 'key.pem')}" }`,
    });
  });
  afterAll(() => server.dispose());

  it('logs why it cannot connect while it keeps waiting (here: an unknown CA)', async () => {
    const other = join(dir, 'other.pem');
    selfSigned(other, join(dir, 'other-key.pem'), '/CN=x');
    const child = spawnNode(fixture, {
      env: {
        NATS_URL: server.url.replace('nats://', 'tls://'),
        NATS_TLS_CA: other,
        HANDOVER_WORKER_ID: 'tls-bad',
      },
    });
    const warning = await child.waitForLog(
      msg(
        'cannot connect to NATS yet; retrying (set HANDOVER_CONNECT_TIMEOUT_MS to bound the wait)',
      ),
    );
    expect(String(warning.error)).toMatch(/certificate/i);
    expect(child.logs.some(msg('ready'))).toBe(false);
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
  });

  it('passes the TLS options through and serves over TLS', async () => {
    const child = spawnNode(fixture, {
      env: {
        NATS_URL: server.url.replace('nats://', 'tls://'),
        NATS_TLS_CA: ca,
        SERVICE: 'tls',
        HANDOVER_WORKER_ID: 'tls-1',
      },
    });
    await child.waitForLog(msg('ready'), { timeoutMs: 15_000 });
    const nc = await connect({ servers: server.url, tls: { caFile: ca } });
    expect((await nc.request('handover.tls.tasks', '{}', { timeout: 5000 })).json()).toMatchObject({
      worker: 'tls-1',
    });
    await nc.close();
    child.signal('SIGTERM');
    expect((await child.waitForExit()).code).toBe(0);
  });
});
