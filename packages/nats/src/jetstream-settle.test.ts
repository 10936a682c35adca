import { HandoverError, TaskAbortedError } from '@handover/core';
import { describe, expect, it } from 'vitest';
import { TaskError } from './errors.js';
import { settleFailure } from './jetstream-settle.js';

const attempt = (deliveryCount: number, maxDeliver = 5) => ({
  deliveryCount,
  maxDeliver,
  nakDelayMs: { base: 1000, max: 30_000 },
});

describe('settleFailure', () => {
  it('naks a job cut off at the drain deadline at once, whatever its deliveries', () => {
    expect(settleFailure(new TaskAbortedError('deadline'), attempt(5))).toEqual({
      how: 'nak',
      delayMs: undefined,
      cause: 'cut-off',
      reason: 'cut off at the drain deadline',
    });
  });

  it('naks at once a job the worker refused because it no longer runs anything', () => {
    const refused = new HandoverError('HANDOVER_E_NOT_ACCEPTING', 'the worker has drained');
    expect(settleFailure(refused, attempt(1))).toMatchObject({ how: 'nak', delayMs: undefined });
  });

  it('terms a job its handler rejected with a 4xx TaskError, on any delivery', () => {
    expect(settleFailure(new TaskError(422, 'no such order'), attempt(1))).toEqual({
      how: 'term',
      cause: 'rejected',
      reason: 'no such order',
    });
  });

  it('retries a 5xx TaskError like any other failure', () => {
    expect(settleFailure(new TaskError(503, 'db down'), attempt(1))).toMatchObject({
      how: 'nak',
      cause: 'failed',
      delayMs: 1000,
    });
  });

  it('naks a failure with a delay doubling per delivery, capped at max', () => {
    const delays = [1, 2, 3, 4, 6, 7].map(
      (n) => settleFailure(new Error('boom'), attempt(n, -1)) as { delayMs: number },
    );
    expect(delays.map((s) => s.delayMs)).toEqual([1000, 2000, 4000, 8000, 30_000, 30_000]);
    expect(delays[0]).toMatchObject({ how: 'nak', cause: 'failed', reason: 'boom' });
  });

  it('terms a failure on the last delivery max_deliver allows, and says how often it failed', () => {
    expect(settleFailure(new Error('boom'), attempt(4, 5))).toMatchObject({ how: 'nak' });
    expect(settleFailure(new Error('boom'), attempt(5, 5))).toEqual({
      how: 'term',
      cause: 'exhausted',
      reason: 'failed 5 times: boom',
    });
  });

  it('never terms for max_deliver when it is unlimited (-1)', () => {
    expect(settleFailure('text thrown', attempt(1000, -1))).toMatchObject({
      how: 'nak',
      delayMs: 30_000,
      reason: 'text thrown',
    });
  });

  it('retries at once with a zero base delay', () => {
    const s = settleFailure(new Error('x'), { ...attempt(3), nakDelayMs: { base: 0, max: 0 } });
    expect(s).toMatchObject({ how: 'nak', delayMs: 0 });
  });
});
