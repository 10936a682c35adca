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
 * Polls `probe` until it returns something other than `undefined`/`false`, bounded. The same
 * contract as testkit's `waitFor`, without testkit's vitest imports (the Swarm demo uses it).
 */
export async function until<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: UntilOptions = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 250, what = 'condition' } = options;
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() - started >= timeoutMs) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${Date.now() - started} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
