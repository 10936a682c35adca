import { type Clock, systemClock } from '@handover/core';
import { transientReason } from './jetstream-errors.js';
import type { BackoffMs } from './validate.js';

/** A retry about to happen, as told to {@link RetryOptions.onRetry}. */
export interface RetryNotice {
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** Why it is retried, e.g. `timeout`. */
  readonly reason: string;
  readonly delayMs: number;
  readonly error: unknown;
}

/** Options of {@link retryTransient}. */
export interface RetryOptions {
  /** Epoch ms after which no retry is scheduled: the last error is thrown instead. */
  readonly deadline?: number;
  /** Ends the retries (the last error is thrown), e.g. the warm-up's signal. */
  readonly signal?: AbortSignal;
  /**
   * Delay before retry n: random in [½, 1] × `min(base × 2^(n-1), max)`, cut to the deadline.
   * @default { base: 100, max: 2000 }
   */
  readonly backoffMs?: BackoffMs;
  /** Why an error is worth another attempt, or `undefined` when it is not. @default transientReason */
  readonly transient?: (error: unknown) => string | undefined;
  /** Called before each retry (to log the first one, count them...). */
  readonly onRetry?: (notice: RetryNotice) => void;
  /** @default the system clock */
  readonly clock?: Clock;
  /** @default Math.random */
  readonly random?: () => number;
}

/** Resolves after `ms` or when `signal` aborts. */
function pause(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `op` until it succeeds, retrying with backoff while its error is transient (see
 * `transientReason`: timeouts, no leader yet, JetStream temporarily unavailable). An error
 * that is not transient is thrown at once; when the deadline passes or `signal` aborts, the
 * last error is thrown as it is (the caller says what it was doing).
 *
 * Start-up on a cluster needs this: three workers creating the same R3 stream at once saw one
 * `STREAM.INFO` time out in 8 runs of 8 (nats-server 2.9.10), and a write to a stream whose
 * leader is being elected fails for 4–6 s.
 */
export async function retryTransient<T>(
  op: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const { base, max } = options.backoffMs ?? { base: 100, max: 2000 };
  const transient = options.transient ?? ((error: unknown) => transientReason(error));
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (error) {
      const reason = transient(error);
      if (reason === undefined || options.signal?.aborted) throw error;
      const left = (options.deadline ?? Number.POSITIVE_INFINITY) - clock.now();
      if (left <= 0) throw error;
      const backoff = Math.min(base * 2 ** (attempt - 1), max) * (0.5 + random() / 2);
      const delayMs = Math.round(Math.min(backoff, left));
      options.onRetry?.({ attempt, reason, delayMs, error });
      await pause(clock, delayMs, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}
