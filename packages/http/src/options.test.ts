import { isHandoverError } from '@handover/core';
import { describe, expect, it } from 'vitest';
import { resolveEndpointOptions } from './endpoint-options.js';
import { portFrom } from './serve.js';
import { resolveServerOptions } from './server-options.js';

const token = 'a-long-enough-token-1234';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isHandoverError(error, 'HANDOVER_E_INVALID_OPTION')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected an option error');
}

describe('resolveEndpointOptions', () => {
  it('serves the four probes at their default paths and no drain endpoint by default', () => {
    const resolved = resolveEndpointOptions(undefined);
    expect([...resolved.probes]).toEqual([
      ['/livez', 'livez'],
      ['/readyz', 'readyz'],
      ['/startupz', 'startupz'],
      ['/healthz', 'healthz'],
    ]);
    expect(resolved.drain).toBeUndefined();
    expect(resolveEndpointOptions({ drain: false }).drain).toBeUndefined();
  });

  it('turns a probe off with false and moves one with a path', () => {
    const resolved = resolveEndpointOptions({ paths: { healthz: false, readyz: '/ready' } });
    expect([...resolved.probes.keys()]).toEqual(['/livez', '/ready', '/startupz']);
  });

  it.each([
    [
      { paths: { readyz: 'ready' } },
      'Expected `paths.readyz` to be a path starting with / without spaces, ? or #, got "ready" (string)',
    ],
    [{ paths: { readyz: '/ready?x' } }, 'Expected `paths.readyz` to be a path starting with /'],
    [{ paths: { readyz: 42 } }, 'got 42 (number)'],
    [
      { paths: { ready: '/r' } },
      'Expected `paths` to be keyed by livez, readyz, startupz, healthz, got key "ready"',
    ],
    [
      { paths: { readyz: '/livez' } },
      'Expected `paths.readyz` to be a path no other endpoint uses, got "/livez" (string)',
    ],
    [{ paths: 'x' }, 'Expected `paths` to be an object of probe paths, got "x" (string)'],
    ['x', 'Expected `options` to be an object, got "x" (string)'],
    [
      { metricsPath: '/m' },
      'Expected `metrics` to be given when metricsPath is (a metrics source such as handoverMetrics()), got undefined',
    ],
  ])('rejects %j', (options, expected) => {
    expect(message(() => resolveEndpointOptions(options))).toContain(expected);
  });
});

describe('resolveEndpointOptions: drain endpoint', () => {
  it('accepts a token or loopbackOnly, at /drain by default', () => {
    expect(resolveEndpointOptions({ drain: { token } }).drain).toEqual({
      path: '/drain',
      token,
      loopbackOnly: false,
      maxWaitMs: undefined,
    });
    expect(
      resolveEndpointOptions({ drain: { loopbackOnly: true, path: '/x' } }).drain,
    ).toMatchObject({
      path: '/x',
      loopbackOnly: true,
    });
  });

  it('refuses an unprotected drain endpoint', () => {
    expect(message(() => resolveEndpointOptions({ drain: {} }))).toBe(
      'Expected `drain` to be protected: set `token` or `loopbackOnly: true` (an open drain endpoint lets anyone take the worker out of service), got neither',
    );
    expect(message(() => resolveEndpointOptions({ drain: { loopbackOnly: false } }))).toContain(
      'got neither',
    );
    expect(message(() => resolveEndpointOptions({ drain: true }))).toBe(
      'Expected `drain` to be false or an object such as { token } or { loopbackOnly: true }, got true (boolean)',
    );
  });

  it('rejects a weak token without echoing it', () => {
    const text = message(() => resolveEndpointOptions({ drain: { token: 'secret' } }));
    expect(text).toBe(
      'Expected `drain.token` to be at least 16 characters of [A-Za-z0-9-._~+/=] (a bearer token), got a string of 6 characters',
    );
    const spaced = 'has spaces in it, long enough';
    expect(message(() => resolveEndpointOptions({ drain: { token: spaced } }))).not.toContain(
      spaced,
    );
  });

  it('rejects a drain path taken by a probe, and a bad maxWaitMs', () => {
    expect(message(() => resolveEndpointOptions({ drain: { token, path: '/readyz' } }))).toContain(
      'Expected `paths.readyz` to be a path no other endpoint uses',
    );
    expect(message(() => resolveEndpointOptions({ drain: { token, maxWaitMs: -1 } }))).toBe(
      'Expected `drain.maxWaitMs` to be an integer from 0 to 2147483647, got -1 (number)',
    );
  });
});

describe('resolveServerOptions', () => {
  it('has defaults', () => {
    expect(resolveServerOptions(undefined)).toEqual({
      name: undefined,
      url: undefined,
      keepAliveWhileDraining: false,
      newConnectionGraceMs: 1000,
      onClosing: undefined,
      onTeardown: undefined,
    });
  });

  it.each([
    [{ url: 'ftp://x' }, 'Expected `url` to be an http:// or https:// URL, got "ftp://x" (string)'],
    [{ name: '' }, 'Expected `name` to be a string of 1-100 characters, got "" (string)'],
    [
      { keepAliveWhileDraining: 'yes' },
      'Expected `keepAliveWhileDraining` to be a boolean, got "yes" (string)',
    ],
    [
      { newConnectionGraceMs: 1.5 },
      'Expected `newConnectionGraceMs` to be an integer from 0 to 2147483647, got 1.5 (number)',
    ],
    [{ onClosing: 'x' }, 'Expected `onClosing` to be a function, got "x" (string)'],
    [{ onTeardown: 1 }, 'Expected `onTeardown` to be a function, got 1 (number)'],
  ])('rejects %j', (options, expected) => {
    expect(message(() => resolveServerOptions(options))).toBe(expected);
  });
});

describe('portFrom (serve)', () => {
  it('takes the option, else PORT, else 3000', () => {
    expect(portFrom(8080, { PORT: '9000' })).toBe(8080);
    expect(portFrom(undefined, { PORT: ' 9000 ' })).toBe(9000);
    expect(portFrom(undefined, { PORT: '' })).toBe(3000);
    expect(portFrom(undefined, {})).toBe(3000);
  });

  it('rejects a bad PORT with HANDOVER_E_INVALID_ENV naming the variable', () => {
    for (const PORT of ['abc', '70000', '-1', '3000x']) {
      const error = (() => {
        try {
          portFrom(undefined, { PORT });
        } catch (e) {
          return e;
        }
      })();
      expect(isHandoverError(error) && error.code).toBe('HANDOVER_E_INVALID_ENV');
      expect(String(error)).toContain('environment variable PORT');
    }
  });

  it('rejects a bad port option with HANDOVER_E_INVALID_OPTION', () => {
    expect(() => portFrom(-1, {})).toThrow(
      expect.objectContaining({ code: 'HANDOVER_E_INVALID_OPTION' }),
    );
  });
});
