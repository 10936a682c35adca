import { hostname } from 'node:os';
import { readIdentitySync } from '@handover/identity';
import { captureLogger } from '@handover/testkit';
import { describe, expect, it } from 'vitest';
import type { HandoverError } from './errors.js';
import type { WorkerOptions } from './options.js';
import { createWorker } from './worker.js';

const quiet = { exit: false, signals: [], logger: captureLogger() } as const;

function errorOf(fn: () => unknown): HandoverError {
  try {
    fn();
  } catch (error) {
    return error as HandoverError;
  }
  throw new Error('expected a throw');
}

describe('the identity of a worker', () => {
  it('is read from this host when no identity is given, with HANDOVER_WORKER_ID winning', () => {
    const fromEnv = createWorker({
      ...quiet,
      service: 'orders',
      env: { HANDOVER_WORKER_ID: 'w.7' },
    });
    expect([fromEnv.id, fromEnv.identity.hostname]).toEqual(['w_7', hostname()]);
    const fromHost = createWorker({ ...quiet, service: 'orders', env: {} });
    expect(fromHost.id).toBe(readIdentitySync({ env: {}, pid: process.pid }).id);
  });

  it('needs no option at all with HANDOVER_SERVICE set: the five-line worker', () => {
    const worker = createWorker({
      ...quiet,
      env: { HANDOVER_SERVICE: 'orders', HANDOVER_WORKER_ID: 'w-1' },
    });
    expect([worker.service, worker.id, worker.version]).toEqual(['orders', 'w-1', '0.0.0']);
  });

  it('logs how it was read, and what the hosts file had wrong, through the worker logger', () => {
    const logger = captureLogger();
    createWorker({ ...quiet, logger, service: 'orders', env: { HANDOVER_WORKER_ID: 'w-1' } });
    const read = logger.entries.find((e) => e.message === 'identity read from this host');
    expect(read?.fields).toMatchObject({ source: 'env', service: 'orders', id: 'w-1' });
  });

  it.each<[string, unknown, string]>([
    [
      'a Promise (a forgotten await)',
      Promise.resolve({ id: 'w-1', hostname: 'h', addresses: [] }),
      'Expected `identity` to be an identity object such as readIdentity() resolves to, got a Promise (did you forget `await`?)',
    ],
    [
      'a bad id',
      { id: 'a>b', hostname: 'h', addresses: [] },
      'Expected `identity.id` to be 1-128 characters of [A-Za-z0-9_-], got "a>b" (string)',
    ],
    [
      'no addresses',
      { id: 'w-1', hostname: 'h' },
      'Expected `identity.addresses` to be an array of strings, got undefined',
    ],
  ])('rejects %s with HANDOVER_E_INVALID_OPTION', (_what, identity, message) => {
    const error = errorOf(() =>
      createWorker({ ...quiet, service: 'orders', identity } as unknown as WorkerOptions),
    );
    expect([error.code, error.message]).toEqual(['HANDOVER_E_INVALID_OPTION', message]);
  });

  it('rejects a bad HANDOVER_LOG_LEVEL with HANDOVER_E_INVALID_ENV when it builds its own logger', () => {
    const error = errorOf(() =>
      createWorker({
        service: 'orders',
        exit: false,
        env: { HANDOVER_WORKER_ID: 'w-1', HANDOVER_LOG_LEVEL: 'verbose' },
      }),
    );
    expect(error.code).toBe('HANDOVER_E_INVALID_ENV');
    expect(error.message).toContain('HANDOVER_LOG_LEVEL');
  });
});
