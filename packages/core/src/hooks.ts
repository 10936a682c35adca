import type { Clock } from './clock.js';
import { describeError, HandoverError } from './errors.js';
import type { Logger } from './logger.js';
import { expectOption, optionalInteger, received } from './validate.js';

/** A warm-up or shutdown hook. The signal fires when its time is up or the worker stops. */
export type HookFn = (signal: AbortSignal) => void | PromiseLike<void>;

/** Options of a single hook. */
export interface HookOptions {
  /** Time this hook may take. @default the worker's `warmupTimeoutMs` or `hookTimeoutMs` */
  readonly timeoutMs?: number;
}

export interface Hook {
  readonly name: string;
  readonly fn: HookFn;
  readonly timeoutMs: number | undefined;
}

/**
 * Runs `fn` with a signal that fires after `ms` or when `parent` aborts. Rejects with
 * `timeoutError()` or the parent's reason at that moment, without waiting for `fn` to notice.
 */
export function runWithTimeout<T>(
  clock: Clock,
  ms: number,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  timeoutError: () => Error,
  parent?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timer: unknown;
    const onParentAbort = (): void => stop(parent?.reason);
    // Clears the timer and the listener whichever way the hook ends: a timer left armed (warm-up
    // hooks default to 24 days) would keep an embedding process alive.
    const settle = (): void => {
      if (timer !== undefined) clock.clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    };
    const stop = (reason: unknown): void => {
      settle();
      controller.abort(reason);
      reject(reason);
    };
    if (parent?.aborted) return stop(parent.reason);
    parent?.addEventListener('abort', onParentAbort, { once: true });
    timer = clock.setTimeout(() => stop(timeoutError()), ms);
    Promise.resolve()
      .then(() => fn(controller.signal))
      .then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
  });
}

const codes = {
  'warm-up': { timeout: 'HANDOVER_E_WARMUP_TIMEOUT', failed: 'HANDOVER_E_WARMUP_FAILED' },
  shutdown: { timeout: 'HANDOVER_E_HOOK_TIMEOUT', failed: 'HANDOVER_E_HOOK_FAILED' },
} as const;

/**
 * Runs one hook bounded by `ms` (and `parent`); every failure comes out as a HandoverError with
 * the kind's code: a timeout, or the hook's own error as `cause`.
 */
async function runHook(
  kind: keyof typeof codes,
  hook: Hook,
  ms: number,
  clock: Clock,
  logger: Logger,
  parent?: AbortSignal,
): Promise<void> {
  const started = clock.now();
  try {
    await runWithTimeout(
      clock,
      ms,
      hook.fn,
      () =>
        new HandoverError(
          codes[kind].timeout,
          `${kind} hook "${hook.name}" timed out after ${ms} ms`,
        ),
      parent,
    );
  } catch (error) {
    if (error instanceof HandoverError) throw error;
    throw new HandoverError(
      codes[kind].failed,
      `${kind} hook "${hook.name}" failed: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  logger.debug({ hook: hook.name, ms: clock.now() - started }, `${kind} hook done`);
}

/** Outcome of the shutdown hooks. */
export interface ShutdownHooksResult {
  /** Names of the hooks that threw or timed out. */
  readonly failed: readonly string[];
}

/**
 * Runs shutdown hooks in reverse order of registration, each with its own timeout capped by
 * `remainingMs()`. A hook that fails or times out is logged; the others still run.
 */
export async function runShutdownHooks(
  hooks: readonly Hook[],
  clock: Clock,
  defaultTimeoutMs: number,
  remainingMs: () => number,
  logger: Logger,
): Promise<ShutdownHooksResult> {
  const failed: string[] = [];
  for (const hook of [...hooks].reverse()) {
    const ms = Math.max(1, Math.min(hook.timeoutMs ?? defaultTimeoutMs, remainingMs()));
    try {
      await runHook('shutdown', hook, ms, clock, logger);
    } catch (error) {
      failed.push(hook.name);
      const err = error as HandoverError;
      logger.error({ hook: hook.name, err, code: err.code }, 'shutdown hook failed');
    }
  }
  return { failed };
}

/**
 * Runs warm-up hooks in order. Each hook is bounded by its own timeout, and all of them by the
 * `overall` signal (the warm-up timeout, or a stop during warm-up). Rejects with the first
 * failure as a `HANDOVER_E_WARMUP_*` error (or the reason `overall` fired with).
 */
export async function runWarmupHooks(
  hooks: readonly Hook[],
  clock: Clock,
  overall: AbortSignal,
  logger: Logger,
  running: (hook: string | undefined) => void = () => {},
): Promise<void> {
  try {
    for (const hook of hooks) {
      running(hook.name);
      await runHook('warm-up', hook, hook.timeoutMs ?? 2_147_483_647, clock, logger, overall);
    }
  } finally {
    running(undefined);
  }
}

/** Validates a hook given to `warmup()` or `onShutdown()`. */
export function toHook(method: string, name: string, fn: HookFn, options: HookOptions = {}): Hook {
  expectOption(
    typeof name === 'string' && name.length > 0,
    `Expected the name passed to \`${method}()\` to be a non-empty string, got ${received(name)}`,
  );
  expectOption(
    typeof fn === 'function',
    `Expected the hook passed to \`${method}()\` to be a function, got ${received(fn)}`,
  );
  return {
    name,
    fn,
    timeoutMs: optionalInteger(`${method}() timeoutMs`, options.timeoutMs, { min: 1, unit: 'ms' }),
  };
}
