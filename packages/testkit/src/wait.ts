/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this long. @default 10000 */
  readonly timeoutMs?: number;
  /** Poll interval. @default 10 */
  readonly intervalMs?: number;
  /** What is awaited, for the error message. */
  readonly what?: string;
}

/**
 * Polls `probe` until it returns something other than `undefined`/`false`, bounded by
 * `timeoutMs`. The error names what was awaited and how long it waited.
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 10, what = 'condition' } = options;
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= timeoutMs) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${elapsed} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Rejects with a clear message if `promise` does not settle within `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const started = Date.now();
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${Date.now() - started} ms waiting for ${what}`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Holds one task of `worker` in flight until `done()` is called: a drain waits for it, so a
 * test can look at a worker that is draining.
 */
export function holdTask(
  worker: { run(fn: () => Promise<void>, meta?: { name?: string }): Promise<void> },
  name = 'held task',
): { done(): void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  worker.run(() => gate, { name }).catch(() => {});
  return { done: () => release() };
}
