import { describe, expect, it } from 'vitest';
import { parseCommandLine } from './args.js';
import { CliError } from './errors.js';

const parse = (argv: string[], env: Record<string, string> = {}) => parseCommandLine(argv, env);
const usage = (argv: string[], env: Record<string, string> = {}): CliError => {
  try {
    parse(argv, env);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).code).toBe('HANDOVER_E_CLI_USAGE');
    expect((error as CliError).exitCode).toBe(2);
    return error as CliError;
  }
  throw new Error(`parsed: ${argv.join(' ')}`);
};

describe('parseCommandLine', () => {
  it('reads a command, its service and the flags in any order', () => {
    expect(parse(['--server', 'nats://a:4222,nats://b:4222', 'ls', 'orders', '--json'])).toEqual({
      kind: 'run',
      command: 'ls',
      service: 'orders',
      json: true,
      prefix: 'handover',
      waitMs: 1000,
      connection: { server: 'nats://a:4222,nats://b:4222', timeoutMs: 5000 },
    });
    const watch = parse(['watch', '-s', 'nats://a:4222', 'orders', '--prefix', 'acme.prod']);
    expect(watch).toMatchObject({ command: 'watch', service: 'orders', prefix: 'acme.prod' });
    expect(parse(['stats', 'orders', '--wait', '250ms'])).toMatchObject({ waitMs: 250 });
  });

  it('takes ls without a service (every service)', () => {
    expect(parse(['ls'])).toMatchObject({ command: 'ls', service: undefined });
  });

  it('falls back to the nats CLI variables, flags first', () => {
    const env = { NATS_USER: 'env-user', NATS_PASSWORD: 'env-pw', NATS_TIMEOUT: '2s' };
    expect(parse(['ls'], env)).toMatchObject({
      connection: { user: 'env-user', password: 'env-pw', timeoutMs: 2000 },
    });
    expect(parse(['ls', '--user', 'u', '--password', 'p', '--timeout', '1.5'], env)).toMatchObject({
      connection: { user: 'u', password: 'p', timeoutMs: 1500 },
    });
  });

  it('answers help and version', () => {
    expect(parse(['--help'])).toEqual({ kind: 'help' });
    expect(parse(['-h'])).toEqual({ kind: 'help' });
    expect(parse(['help', 'watch'])).toEqual({ kind: 'help', command: 'watch' });
    expect(parse(['watch', '--help'])).toEqual({ kind: 'help', command: 'watch' });
    expect(parse(['--version'])).toEqual({ kind: 'version' });
  });

  it('refuses what it does not know, with a usage error', () => {
    expect(usage([]).message).toBe('Missing command');
    expect(usage(['list']).message).toBe('Unknown command "list"');
    expect(usage(['ls', '--colour']).message).toMatch(/Unknown option '--colour'/);
    expect(usage(['watch']).message).toBe('Missing argument: handover watch <service>');
    expect(usage(['stats']).message).toBe('Missing argument: handover stats <service>');
    expect(usage(['ls', 'a', 'b']).message).toBe('Unexpected argument "b"');
    expect(usage(['ls', 'orders.eu']).message).toMatch(/Expected the service to be 1-64/);
    expect(usage(['ls', '--wait', '1s']).message).toBe('`handover ls` has no option --wait');
    expect(usage(['stats', 'orders', '--prefix', 'x']).message).toMatch(/has no option --prefix/);
    expect(usage(['watch', 'orders', '--prefix', 'a..b']).message).toMatch(/--prefix/);
    expect(usage(['ls', '--timeout', 'soon']).message).toMatch(/Expected `--timeout` to be a/);
    expect(usage(['ls', '--server']).message).toMatch(/--server/);
  });

  it('refuses credentials given two ways, and never repeats them', () => {
    const twice = usage(['ls', '--user', 'u', '--password', 'hunter2', '--token', 's3cret']);
    expect(twice.message).toBe('Give one of --creds, --user/--password and --token');
    expect(usage(['ls', '--password', 'hunter2']).message).toBe('--password needs --user');
    expect(usage(['ls', '--tlscert', 'c.pem']).message).toBe('--tlscert and --tlskey go together');
    const unknown = usage(['ls', '--passwd=hunter2']);
    expect(unknown.message).not.toContain('hunter2');
  });
});
