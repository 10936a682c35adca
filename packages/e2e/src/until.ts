import { waitFor } from '@handover/testkit/wait';

/** Options of {@link until}. */
export interface UntilOptions {
  /** Give up after this long. @default 30000 */
  readonly timeoutMs?: number;
  /** Poll interval. @default 250 (each poll runs docker commands) */
  readonly intervalMs?: number;
  /** What is awaited, for the error message. */
  readonly what?: string;
}

/**
 * Polls `probe` until it returns something other than `undefined`/`false`, bounded: testkit's
 * `waitFor` (imported alone: the testkit index pulls in vitest, which the Swarm demo does not
 * have) with defaults suited to probes that run docker commands.
 */
export function until<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: UntilOptions = {},
): Promise<T> {
  return waitFor(probe, { timeoutMs: 30_000, intervalMs: 250, ...options });
}
