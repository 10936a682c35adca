import { createServer, type Server } from 'node:net';
import {
  getStablePort,
  type NatsServer,
  spawnNode,
  startNatsServer,
  waitFor,
} from '@handover/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, runBin } from './helpers.js';

const secret = 's3cret-pw';
let auth: NatsServer;
let plain: NatsServer;
let silent: Server;
let silentPort: number;
let accepted = 0;

beforeAll(async () => {
  [auth, plain] = await Promise.all([
    startNatsServer({ config: `authorization { user: cli, password: "${secret}" }` }),
    startNatsServer({ jetstream: false }),
  ]);
  // Accepts connections and never says a word: a broker that hangs.
  silent = createServer(() => {
    accepted++;
  });
  silentPort = await getStablePort();
  await new Promise<void>((resolve) => silent.listen(silentPort, '127.0.0.1', resolve));
});
afterAll(async () => {
  await Promise.all([auth?.dispose(), plain?.dispose()]);
  silent?.close();
});

describe('handover exit codes', () => {
  it('exits 2 with the usage on stderr for an unknown command, flag or a missing argument', async () => {
    for (const args of [
      ['deploy'],
      ['ls', '--colour'],
      ['watch'],
      ['stats'],
      [],
      ['ls', 'a', 'b'],
    ]) {
      const { code, stdout, stderr } = await runBin(args);
      expect(code, `handover ${args.join(' ')}: ${stderr}`).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^handover: .*\(HANDOVER_E_CLI_USAGE\)\n/);
      expect(stderr).toContain('Usage: handover <command> [options]');
    }
  });

  it('exits 0 with help on stdout for --help, each command too', async () => {
    const main = await runBin(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('Usage: handover <command> [options]');
    for (const command of ['ls', 'watch', 'stats']) {
      const help = await runBin([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: handover ${command} `);
      expect(help.stdout).toContain('--server <urls>');
    }
    expect((await runBin(['help', 'watch'])).stdout).toContain('Ctrl-C');
    expect((await runBin(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('exits 1 when nothing listens, saying where it tried and never the password', async () => {
    const port = await getStablePort();
    const { code, stderr, ms } = await runBin([
      'ls',
      'orders',
      '--server',
      `nats://cli:${secret}@127.0.0.1:${port}`,
    ]);
    expect(code).toBe(1);
    expect(stderr).toBe(
      `handover: cannot connect to NATS at nats://127.0.0.1:${port}: connection refused (HANDOVER_E_CLI_CONNECT)\n`,
    );
    expect(ms, `took ${ms} ms`).toBeLessThan(5000);
  });

  it('gives up on a broker that does not answer within --timeout', async () => {
    const { code, stderr, ms } = await runBin([
      'stats',
      'orders',
      '--timeout',
      '1s',
      '-s',
      `nats://127.0.0.1:${silentPort}`,
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^handover: cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: .*\(HANDOVER_E_CLI_CONNECT\)\n$/,
    );
    // 1 s bound plus a Node start on a busy machine; the figure is in the message.
    expect(ms, `gave up after ${ms} ms`).toBeGreaterThanOrEqual(1000);
    expect(ms, `gave up after ${ms} ms`).toBeLessThan(6000);
  });

  it('stops at Ctrl-C while connecting: 130 for ls, 0 for watch', async () => {
    for (const [command, expected] of [
      ['ls', 130],
      ['watch', 0],
    ] as const) {
      const child = spawnNode(bin, {
        args: [command, 'orders', '--timeout', '20s', '-s', `nats://127.0.0.1:${silentPort}`],
      });
      // Once it has opened its socket (its signal handlers are set by then); no answer comes.
      const before = accepted;
      await waitFor(() => accepted > before, { what: 'the connection attempt' });
      const sent = Date.now();
      child.signal('SIGINT');
      const exit = await child.waitForExit(5000);
      expect(exit.code, `${command}: ${child.stderr()}`).toBe(expected);
      expect(exit.at - sent, `${command} took ${exit.at - sent} ms to stop`).toBeLessThan(3000);
      expect(child.stderr()).toBe('');
    }
  });

  it('exits 1 on refused credentials without printing them, 0 with the right ones', async () => {
    const wrong = await runBin(['ls', '--user', 'cli', '--password', 'not-it', '-s', auth.url]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/Authorization Violation.*\(HANDOVER_E_CLI_CONNECT\)/i);
    expect(wrong.stderr + wrong.stdout).not.toContain('not-it');

    const inUrl = `nats://cli:${secret}@127.0.0.1:${auth.port}`;
    for (const run of [
      await runBin(['ls', '--user', 'cli', '--password', secret, '-s', auth.url]),
      await runBin(['ls'], { NATS_URL: inUrl }),
      await runBin(['ls'], { NATS_URL: auth.url, NATS_USER: 'cli', NATS_PASSWORD: secret }),
    ]) {
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('no Handover services');
    }
    const both = await runBin(['ls', '--user', 'cli', '-s', inUrl]);
    expect(both.code).toBe(2);
    expect(both.stderr + both.stdout).not.toContain(secret);
  });

  it('exits 1 for a service without a bucket, whatever the command', async () => {
    const login = ['-s', auth.url, '--user', 'cli', '--password', secret];
    for (const args of [
      ['ls', 'nosuch'],
      ['watch', 'nosuch'],
      ['stats', 'nosuch', '--wait', '200ms'],
    ]) {
      const { code, stderr } = await runBin([...args, ...login]);
      expect(code, stderr).toBe(1);
      expect(stderr).toMatch(
        /^handover: no service nosuch: .*handover_nosuch.*\(HANDOVER_E_CLI_NO_SERVICE\)\n$/,
      );
    }
  });

  it('exits 1 when the server has no JetStream, for the registry', async () => {
    const { code, stderr } = await runBin(['ls', 'orders', '-s', plain.url]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^handover: cannot use JetStream .*\(HANDOVER_E_CLI_BROKER\)\n$/);
  });
});
