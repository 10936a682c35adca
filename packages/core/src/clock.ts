/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The time source of a worker. The default is the system clock; unit tests inject a manual
 * clock to drive deadlines, timeouts and heartbeats without waiting.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The system clock: `Date.now()` and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Resolves after `ms`, or as soon as `signal` aborts (it never rejects). Returns whether the
 * full time elapsed.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      resolve(false);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A point in time after which work is cut off; its `signal` fires then, or earlier if shortened. */
export class Deadline {
  readonly #clock: Clock;
  readonly #controller = new AbortController();
  #timer: TimerHandle | undefined;
  #at: number;

  constructor(clock: Clock, at: number, reason: () => unknown) {
    this.#clock = clock;
    this.#at = at;
    this.#arm(reason);
  }

  /** When the deadline passes, in epoch ms. */
  get at(): number {
    return this.#at;
  }

  /** Fires when the deadline passes. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Milliseconds left, never negative. */
  remaining(): number {
    return Math.max(0, this.#at - this.#clock.now());
  }

  /** Moves the deadline earlier (never later). */
  shorten(at: number, reason: () => unknown): void {
    if (at >= this.#at || this.signal.aborted) return;
    this.#at = at;
    this.#arm(reason);
  }

  /** Stops the timer without firing. */
  cancel(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(reason: () => unknown): void {
    this.cancel();
    const ms = this.#at - this.#clock.now();
    if (ms <= 0) {
      this.#controller.abort(reason());
      return;
    }
    this.#timer = this.#clock.setTimeout(() => this.#controller.abort(reason()), ms);
  }
}
