import { existsSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type ReadIdentityOptions,
  readIdentity,
  readIdentitySync,
  sanitizeId,
} from '../src/index.js';
import { failure, fixture, readers, recording } from './helpers.js';

const bad: ReadonlyArray<readonly [unknown, string]> = [
  [3, 'Expected `options` to be an object, got 3 (number)'],
  [null, 'Expected `options` to be an object, got null'],
  [[], 'Expected `options` to be an object, got an array'],
  [{ hostsPath: 3 }, 'Expected `hostsPath` to be a non-empty string, got 3 (number)'],
  [{ hostsPath: '' }, 'Expected `hostsPath` to be a non-empty string, got "" (string)'],
  [
    { hostsPath: '/etc/hosts\0' },
    'Expected `hostsPath` to be a path without NUL characters, got "/etc/hosts\\u0000" (string)',
  ],
  [{ hostname: null }, 'Expected `hostname` to be a string, got null'],
  [
    { env: 'HANDOVER_WORKER_ID=x' },
    'Expected `env` to be an object, got "HANDOVER_WORKER_ID=x" (string)',
  ],
  [
    { env: { HANDOVER_WORKER_ID: 7 } },
    'Expected `env.HANDOVER_WORKER_ID` to be a string, got 7 (number)',
  ],
  [{ pid: 0 }, 'Expected `pid` to be an integer >= 1, got 0 (number)'],
  [{ pid: 1.5 }, 'Expected `pid` to be an integer >= 1, got 1.5 (number)'],
  [{ pid: '42' }, 'Expected `pid` to be an integer >= 1, got "42" (string)'],
  [{ onWarning: 'log' }, 'Expected `onWarning` to be a function, got "log" (string)'],
];

describe('readIdentity options', () => {
  it.each(bad)('rejects %j with HANDOVER_E_INVALID_OPTION', async (options, message) => {
    const given = options as ReadIdentityOptions;
    for (const read of [() => readIdentity(given), async () => readIdentitySync(given)]) {
      const error = await failure(read);
      expect(error.code).toBe('HANDOVER_E_INVALID_OPTION');
      expect(error.message).toBe(message);
    }
  });

  it('rejects instead of throwing synchronously from readIdentity', () => {
    const result = readIdentity({ pid: -1 });
    expect(result).toBeInstanceOf(Promise);
    return expect(result).rejects.toThrow('Expected `pid` to be an integer >= 1, got -1 (number)');
  });
});

describe.each(readers)('%s defaults', (_name, read) => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('uses os.hostname(), process.pid and process.env', async () => {
    vi.stubEnv('HANDOVER_WORKER_ID', '');
    const identity = await read({ hostsPath: fixture('docker'), onWarning: () => {} });
    expect(identity).toMatchObject({
      id: `${sanitizeId(osHostname())}-${process.pid}`,
      hostname: osHostname(),
      source: 'hostname',
    });
    vi.stubEnv('HANDOVER_WORKER_ID', 'from-process-env');
    expect((await read({ hostsPath: fixture('docker') })).id).toBe('from-process-env');
  });

  it('emits warnings through process.emitWarning with their code by default', async () => {
    const emit = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    await read({ hostsPath: fixture('malformed'), hostname: 'box', env: {} });
    expect(emit).toHaveBeenCalledTimes(1);
    expect(emit.mock.calls[0]?.[0]).toMatch(/^Ignored 3 line\(s\) of hosts file /);
    expect(emit.mock.calls[0]?.[1]).toEqual({ code: 'HANDOVER_W_HOSTS_LINE' });
  });

  it.skipIf(!existsSync('/etc/hosts'))('reads /etc/hosts by default', async () => {
    const implicit = recording({ hostname: 'not-named-here' });
    const explicit = recording({ hostname: 'not-named-here', hostsPath: '/etc/hosts' });
    expect(await read(implicit.options)).toEqual(await read(explicit.options));
    expect(implicit.warnings).toEqual(explicit.warnings);
    expect(implicit.warnings.map((warning) => warning.code)).not.toContain(
      'HANDOVER_W_HOSTS_UNREADABLE',
    );
  });

  it('survives an onWarning that throws or rejects', async () => {
    const missing = fixture('missing');
    for (const onWarning of [
      () => {
        throw new Error('logger down');
      },
      async () => {
        throw new Error('logger down');
      },
    ]) {
      const identity = await read({
        hostsPath: missing,
        hostname: 'h',
        pid: 2,
        env: {},
        onWarning,
      });
      expect(identity.id).toBe('h-2');
    }
  });
});

describe.each(readers)('%s with HANDOVER_WORKER_ID', (_name, read) => {
  const withId = (id: string | undefined, extra: ReadIdentityOptions = {}) =>
    recording({
      hostsPath: fixture('docker'),
      hostname: '3f4e5a6b7c8d',
      env: { HANDOVER_WORKER_ID: id },
      ...extra,
    }).options;

  it('uses the sanitised override and still reports the container address', async () => {
    expect(await read(withId('orders.blue-1'))).toEqual({
      id: 'orders_blue-1',
      hostname: '3f4e5a6b7c8d',
      addresses: ['172.17.0.2'],
      aliases: [],
      source: 'env',
      containerized: true,
    });
  });

  it('appends no pid to an override on a plain host', async () => {
    const options = withId('w-1', { hostsPath: fixture('debian'), hostname: 'laptop' });
    expect(await read(options)).toMatchObject({ id: 'w-1', source: 'env', containerized: false });
  });

  it('trims surrounding whitespace such as a trailing newline', async () => {
    expect((await read(withId(' w-1\n'))).id).toBe('w-1');
  });

  it('ignores an empty override', async () => {
    expect(await read(withId(''))).toMatchObject({ id: '3f4e5a6b7c8d', source: 'hosts' });
  });

  it('throws HANDOVER_E_IDENTITY_EMPTY for a blank override', async () => {
    const error = await failure(() => read(withId(' \t')));
    expect(error.code).toBe('HANDOVER_E_IDENTITY_EMPTY');
    expect(error.message).toBe(
      'Expected environment variable HANDOVER_WORKER_ID to hold a worker id, got " \\t" (string), which is blank',
    );
  });

  it('allows an empty host name when the override names the worker', async () => {
    expect(await read(withId('w-2', { hostname: '' }))).toMatchObject({ id: 'w-2', hostname: '' });
  });

  it('throws HANDOVER_E_IDENTITY_EMPTY for an empty host name without an override', async () => {
    const error = await failure(() => read(withId(undefined, { hostname: '' })));
    expect(error.code).toBe('HANDOVER_E_IDENTITY_EMPTY');
    expect(error.message).toBe(
      'Expected a non-empty host name to derive the worker id from, got "" (string); set HANDOVER_WORKER_ID or pass `hostname`',
    );
  });
});
