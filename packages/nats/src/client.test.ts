import type { NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { createTaskClient, type TaskClientOptions } from './client.js';

// Options are checked before the connection is touched: no broker is needed here.
const nc = {} as NatsConnection;

describe('createTaskClient', () => {
  it.each([
    [{ service: 'a.b' }, 'Expected `service` to be 1-64 characters of [A-Za-z0-9_-]'],
    [{ service: 'orders', timeoutMs: 0 }, 'Expected `timeoutMs` to be an integer >= 1'],
    [
      { service: 'orders', backoffMs: { base: 10, max: 5 } },
      'Expected `backoffMs` to be an object { base, max } of ms with 0 <= base <= max',
    ],
    [
      { service: 'orders', backoffMs: { base: -1, max: 5 } },
      'Expected `backoffMs` to be an object { base, max } of ms with 0 <= base <= max',
    ],
  ])('refuses %j with HANDOVER_E_INVALID_OPTION', (options, message) => {
    expect(() => createTaskClient(nc, options as TaskClientOptions)).toThrow(
      expect.objectContaining({
        code: 'HANDOVER_E_INVALID_OPTION',
        message: expect.stringContaining(message),
      }),
    );
  });

  it('accepts a valid backoff', () => {
    expect(() =>
      createTaskClient(nc, { service: 'orders', backoffMs: { base: 0, max: 0 } }),
    ).not.toThrow();
  });
});
