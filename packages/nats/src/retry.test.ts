import { TimeoutError } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { AutoClock } from '../test/auto-clock.js';
import { apiError } from '../test/js-errors.js';
import { type RetryNotice, retryTransient } from './retry.js';

/** An operation that throws `errors` in turn, then returns 'done'; counts its calls. */
function failing(...errors: unknown[]) {
  const op = async (attempt: number) => {
    op.calls.push(attempt);
    if (errors.length > 0) throw errors.shift();
    return 'done';
  };
  op.calls = [] as number[];
  return op;
}

describe('retryTransient', () => {
  it('retries transient errors with growing delays, then returns', async () => {
    const clock = new AutoClock();
    const notices: RetryNotice[] = [];
    const op = failing(
      new TimeoutError(),
      apiError(503, 10008, 'JetStream system temporarily unavailable'),
      new TimeoutError(),
    );
    const result = await retryTransient(op, {
      clock,
      random: () => 1,
      backoffMs: { base: 100, max: 250 },
      onRetry: (notice) => notices.push(notice),
    });
    expect(result).toBe('done');
    expect(op.calls).toEqual([1, 2, 3, 4]);
    expect(clock.delays).toEqual([100, 200, 250]);
    expect(notices.map((n) => n.reason)).toEqual([
      'timeout',
      '10008 JetStream system temporarily unavailable',
      'timeout',
    ]);
  });

  it('throws a configuration error at once', async () => {
    const error = apiError(404, 10059, 'stream not found');
    const op = failing(error);
    await expect(retryTransient(op, { clock: new AutoClock() })).rejects.toBe(error);
    expect(op.calls).toEqual([1]);
  });

  it('stops at the deadline with the last error, shortening the last delay to fit', async () => {
    const clock = new AutoClock();
    const last = new TimeoutError();
    const op = async () => {
      clock.advance(100);
      throw last;
    };
    await expect(
      retryTransient(op, {
        clock,
        random: () => 1,
        deadline: clock.now() + 1000,
        backoffMs: { base: 500, max: 500 },
      }),
    ).rejects.toBe(last);
    // Attempt (100) + delay (500) + attempt (100): the 300 ms left are waited, then one more
    // attempt, after which the deadline has passed.
    expect(clock.delays).toEqual([500, 300]);
  });

  it('stops when the signal aborts, even in the middle of a delay', async () => {
    const controller = new AbortController();
    const error = new TimeoutError();
    let calls = 0;
    const started = Date.now();
    const pending = retryTransient(
      async () => {
        calls++;
        throw error;
      },
      { signal: controller.signal, backoffMs: { base: 60_000, max: 60_000 } },
    );
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toBe(error);
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('takes its own idea of transient', async () => {
    const op = failing(new Error('flaky'), new Error('flaky'));
    const result = await retryTransient(op, {
      clock: new AutoClock(),
      transient: (error) => ((error as Error).message === 'flaky' ? 'flaky' : undefined),
    });
    expect(result).toBe('done');
    expect(op.calls).toHaveLength(3);
  });
});
