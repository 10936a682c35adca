import { describe, expect, it } from 'vitest';
import { resolveSettings, resolveTiming } from './config.js';
import { HandoverError } from './errors.js';
import type { WorkerOptions } from './options.js';

const identity = { id: 'w-1', hostname: 'w-1', addresses: [] };
const base: WorkerOptions = { service: 'orders', identity };

function errorOf(fn: () => unknown): HandoverError {
  try {
    fn();
  } catch (error) {
    if (error instanceof HandoverError) return error;
    throw error;
  }
  throw new Error('expected a HandoverError');
}

describe('resolveTiming', () => {
  it('uses the Docker defaults when Kubernetes is not detected', () => {
    expect(resolveTiming(base, {}, true)).toEqual({
      gracePeriodMs: 9000,
      drainDelayMs: 0,
      warmupTimeoutMs: 60000,
      hookTimeoutMs: 5000,
      heartbeatMs: 1000,
      shutdownReserveMs: 1000,
      failureDrainMs: 2000,
      kubernetes: false,
    });
  });

  it('uses 28 s and, for HTTP servers only, a 5 s drain delay under Kubernetes', () => {
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1' };
    expect(resolveTiming(base, env, true)).toMatchObject({
      gracePeriodMs: 28000,
      drainDelayMs: 5000,
      kubernetes: true,
    });
    expect(resolveTiming(base, env, false).drainDelayMs).toBe(0);
  });

  it('reads every timing value from its HANDOVER_* variable', () => {
    const env = {
      HANDOVER_GRACE_PERIOD_MS: '20000',
      HANDOVER_DRAIN_DELAY_MS: '3000',
      HANDOVER_WARMUP_TIMEOUT_MS: '1500',
      HANDOVER_HOOK_TIMEOUT_MS: '700',
      HANDOVER_HEARTBEAT_MS: '250',
      HANDOVER_SHUTDOWN_RESERVE_MS: '800',
      HANDOVER_FAILURE_DRAIN_MS: '400',
    };
    expect(resolveTiming(base, env, false)).toEqual({
      gracePeriodMs: 20000,
      drainDelayMs: 3000,
      warmupTimeoutMs: 1500,
      hookTimeoutMs: 700,
      heartbeatMs: 250,
      shutdownReserveMs: 800,
      failureDrainMs: 400,
      kubernetes: false,
    });
  });

  it('lets an option win over its environment variable', () => {
    const timing = resolveTiming(
      { ...base, gracePeriodMs: 5000 },
      { HANDOVER_GRACE_PERIOD_MS: '20000' },
      false,
    );
    expect(timing.gracePeriodMs).toBe(5000);
  });

  it('rejects a malformed environment value with HANDOVER_E_INVALID_ENV naming the variable', () => {
    const error = errorOf(() => resolveTiming(base, { HANDOVER_GRACE_PERIOD_MS: '9s' }, false));
    expect(error.code).toBe('HANDOVER_E_INVALID_ENV');
    expect(error.message).toBe(
      'Expected environment variable HANDOVER_GRACE_PERIOD_MS to be an integer from 100 to 2147483647 (ms), got "9s" (string)',
    );
  });

  it('rejects an out-of-range option with what was expected and what came', () => {
    const error = errorOf(() => resolveTiming({ ...base, heartbeatMs: 10 }, {}, false));
    expect(error.code).toBe('HANDOVER_E_INVALID_OPTION');
    expect(error.message).toBe(
      'Expected `heartbeatMs` to be an integer from 100 to 2147483647 (ms), got 10 (number)',
    );
  });

  it('refuses a budget that leaves no time for in-flight work', () => {
    const error = errorOf(() =>
      resolveTiming({ ...base, gracePeriodMs: 5000, drainDelayMs: 4500 }, {}, false),
    );
    expect(error.code).toBe('HANDOVER_E_INVALID_OPTION');
    expect(error.message).toContain('drainDelayMs (4500) + shutdownReserveMs (1000)');
  });
});

describe('resolveSettings', () => {
  it('fills the defaults', () => {
    expect(resolveSettings(base)).toEqual({
      service: 'orders',
      version: '0.0.0',
      metadata: {},
      concurrency: 16,
      signals: ['SIGTERM', 'SIGINT'],
      exit: true,
      exitCodeFromSignal: false,
    });
  });

  it.each([
    [
      'service',
      { service: 'orders.eu' },
      'Expected `service` to be 1-64 characters of [A-Za-z0-9_-], got "orders.eu" (string)',
    ],
    [
      'service',
      { service: '' },
      'Expected `service` to be 1-64 characters of [A-Za-z0-9_-], got "" (string)',
    ],
    [
      'version',
      { version: 'v1' },
      'Expected `version` to be a SemVer 2.0 string such as 1.4.2, got "v1" (string)',
    ],
    [
      'concurrency',
      { concurrency: 0 },
      'Expected `concurrency` to be an integer >= 1, got 0 (number)',
    ],
    [
      'metadata',
      { metadata: { region: 3 } },
      'Expected `metadata.region` to be a string, got 3 (number)',
    ],
    [
      'signals',
      { signals: ['TERM'] },
      "Expected `signals` to be an array of signal names a process can handle, such as 'SIGTERM' (not SIGKILL or SIGSTOP), got an array",
    ],
    [
      'signals (SIGKILL)',
      { signals: ['SIGKILL'] },
      "Expected `signals` to be an array of signal names a process can handle, such as 'SIGTERM' (not SIGKILL or SIGSTOP), got an array",
    ],
    ['exit', { exit: 'no' }, 'Expected `exit` to be a boolean, got "no" (string)'],
  ])('rejects a bad %s', (_name, patch, message) => {
    const error = errorOf(() => resolveSettings({ ...base, ...patch } as unknown as WorkerOptions));
    expect(error.code).toBe('HANDOVER_E_INVALID_OPTION');
    expect(error.message).toBe(message);
  });

  it('accepts SemVer with pre-release and build metadata', () => {
    expect(resolveSettings({ ...base, version: '2.0.0-rc.1+build.5' }).version).toBe(
      '2.0.0-rc.1+build.5',
    );
  });
});

describe('settings from the environment', () => {
  const env = (vars: Record<string, string>) => vars;

  it('reads HANDOVER_SERVICE and HANDOVER_VERSION when the options are absent', () => {
    const settings = resolveSettings(
      {},
      env({ HANDOVER_SERVICE: 'orders', HANDOVER_VERSION: ' 1.4.2\n' }),
    );
    expect([settings.service, settings.version]).toEqual(['orders', '1.4.2']);
  });

  it('lets an option win over its variable', () => {
    const settings = resolveSettings(
      { service: 'billing', version: '2.0.0' },
      env({ HANDOVER_SERVICE: 'orders', HANDOVER_VERSION: '1.4.2' }),
    );
    expect([settings.service, settings.version]).toEqual(['billing', '2.0.0']);
  });

  it('falls back to npm_package_version when it is SemVer, else 0.0.0', () => {
    expect(resolveSettings(base, env({ npm_package_version: '3.1.0' })).version).toBe('3.1.0');
    expect(resolveSettings(base, env({ npm_package_version: 'next' })).version).toBe('0.0.0');
    expect(
      resolveSettings(base, env({ npm_package_version: '3.1.0', HANDOVER_VERSION: '4.0.0' }))
        .version,
    ).toBe('4.0.0');
  });

  it.each([
    [
      { HANDOVER_SERVICE: 'orders.eu' },
      'Expected environment variable HANDOVER_SERVICE to be 1-64 characters of [A-Za-z0-9_-], got "orders.eu" (string)',
    ],
    [
      { HANDOVER_SERVICE: 'orders', HANDOVER_VERSION: 'v1' },
      'Expected environment variable HANDOVER_VERSION to be a SemVer 2.0 string such as 1.4.2, got "v1" (string)',
    ],
  ])('rejects a bad variable with HANDOVER_E_INVALID_ENV naming it: %j', (vars, message) => {
    const error = errorOf(() => resolveSettings({}, env(vars)));
    expect([error.code, error.message]).toEqual(['HANDOVER_E_INVALID_ENV', message]);
  });

  it('asks for a service when neither the option nor the variable gives one', () => {
    const error = errorOf(() => resolveSettings({}, {}));
    expect([error.code, error.message]).toEqual([
      'HANDOVER_E_INVALID_OPTION',
      'Expected `service` (or the environment variable HANDOVER_SERVICE) to be 1-64 characters of [A-Za-z0-9_-], got undefined',
    ]);
  });

  it('reads HANDOVER_CONNECT_TIMEOUT_MS, unbounded by default', () => {
    expect(resolveTiming({}, {}, false).connectTimeoutMs).toBeUndefined();
    expect(
      resolveTiming({}, env({ HANDOVER_CONNECT_TIMEOUT_MS: '8000' }), false).connectTimeoutMs,
    ).toBe(8000);
    expect(
      errorOf(() => resolveTiming({}, env({ HANDOVER_CONNECT_TIMEOUT_MS: '0' }), false)).code,
    ).toBe('HANDOVER_E_INVALID_ENV');
  });
});
